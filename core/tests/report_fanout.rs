//! Report fan-out counts (the figures come from `benches/report_fanout.rs`, on the same harness):
//! every changed point is encoded exactly once in its transfer set's reports, with its last value,
//! whatever the batch and however the reports are split into PDUs.

#[path = "../benches/fanout/mod.rs"]
mod fanout;

use std::collections::BTreeMap;
use std::time::Duration;

use fanout::{Fanout, Params, Rng};
use tase2_core::mms::ObjectName;

/// Run `seconds` simulated seconds of `share` of the points changing (plus `twice` of them
/// updated a second time in the same batch) and check what the clients decoded.
fn run(params: Params, seconds: u32, share: f64, twice: usize) -> usize {
    let mut f = Fanout::new(params);
    let mut rng = Rng::new(7);
    let mut order = f.points.clone();
    let k = (f64::from(params.points()) * share) as usize;
    let mut updates = Vec::new();
    let mut reports = 0;
    for _ in 0..seconds {
        rng.pick(&mut order, k);
        let changed = &order[..k];
        f.new_values(changed, &mut updates);
        // The first `twice` again, with newer values: only those may be reported.
        if twice > 0 {
            let mut again = Vec::new();
            f.new_values(&changed[..twice], &mut again);
            updates.extend_from_slice(&again);
        }
        let advance = (params.buffer_time > 0).then_some(Duration::from_secs(1));
        let octets = f.server_step(&updates, advance);
        assert!(octets > 0);
        let d = f.deliver(true);
        assert_eq!(d.octets, octets);
        reports += d.reports;

        // Exactly one entry per changed point per transfer set, none for the others.
        assert_eq!(d.values, k, "one value per changed point");
        let mut seen: BTreeMap<(ObjectName, ObjectName), usize> = BTreeMap::new();
        for (_, ts, name, _) in &d.entries {
            *seen.entry((ts.clone(), name.clone())).or_default() += 1;
        }
        assert!(seen.values().all(|&n| n == 1), "a point reported twice");
        let t = f.server.tase2();
        let mut expected: Vec<&ObjectName> = changed
            .iter()
            .map(|&p| t.point_name(p).expect("name"))
            .collect();
        expected.sort();
        let mut got: Vec<&ObjectName> = seen.keys().map(|(_, n)| n).collect();
        got.sort();
        assert_eq!(got, expected, "the changed points, and only them");
        // The last value of each, in the transfer set of the point's domain.
        f.check_values(&d.entries);
    }
    assert!(
        f.server_events.is_empty(),
        "server events: {:?}",
        f.server_events
    );
    reports
}

#[test]
fn each_changed_point_is_reported_once_even_across_split_pdus() {
    let params = Params {
        domains: 4,
        points_per_domain: 300,
        buffer_time: 1,
        max_pdu_size: 4_000,
    };
    let reports = run(params, 3, 0.1, 0);
    // 120 changes a second over 4 transfer sets of ~30 each fit one PDU each.
    assert_eq!(reports, 3 * 4);
    let reports = run(params, 2, 0.9, 5);
    assert!(reports > 2 * 4, "large reports split: {reports} PDUs");
}

#[test]
fn updates_twice_in_a_batch_report_the_last_value_once() {
    let params = Params {
        domains: 3,
        points_per_domain: 200,
        buffer_time: 0,
        max_pdu_size: 65_000,
    };
    run(params, 2, 0.25, 20);
}

#[test]
fn the_issue_setup_reports_every_change_of_a_ten_percent_second() {
    run(Params::ISSUE, 1, 0.1, 0);
}
