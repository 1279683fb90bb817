//! Writes the seed corpus of the `tase2_client` fuzz body (`fuzz/seeds/tase2_client/`): server
//! PDUs a TASE.2 client meets (version, features, name lists, types, reports in the standard and
//! deviating forms), each prefixed by its length as `fuzzing::tase2_client` cuts its input.
//! Run with `cargo test -p tase2-core --test tase2_client_seeds -- --ignored` after changing it.

use tase2_core::mms::{
    AccessResult, BitString, ConfirmedResponse, Data, Float, GetNameListResponse,
    GetVariableAccessAttributesResponse, InformationReport, MmsPdu, ObjectName, ReadResponse,
    TypeDescription, UnconfirmedService, VariableAccessSpecification, VariableSpec,
};
use tase2_core::tase2::{Family, Form, PointType};

fn resp(r: ConfirmedResponse) -> Vec<u8> {
    MmsPdu::ConfirmedResponse {
        invoke_id: 1,
        response: r,
    }
    .to_vec()
}

fn read(d: Data) -> Vec<u8> {
    resp(ConfirmedResponse::Read(ReadResponse {
        variables: None,
        results: vec![AccessResult::Success(d)],
    }))
}

fn framed(pdus: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in pdus {
        if p.len() <= 255 {
            out.push(p.len() as u8);
            out.extend_from_slice(p);
        }
    }
    out
}

#[test]
#[ignore = "regenerates fuzz/seeds/tase2_client"]
fn write_seeds() {
    let icc = |i: &str| ObjectName::domain("ICC1", i);
    let version = read(Data::Structure(vec![Data::Integer(2000), Data::Integer(8)]));
    let features = read(Data::BitString(BitString {
        octets: vec![0xd8, 0],
        bits: 12,
    }));
    let names = resp(ConfirmedResponse::GetNameList(GetNameListResponse {
        identifiers: vec!["ICC1".into()],
        more_follows: false,
    }));
    let gvaa = resp(ConfirmedResponse::GetVariableAccessAttributes(
        GetVariableAccessAttributesResponse {
            mms_deletable: false,
            type_description: PointType::Indication(Family::Real, Form::QTimeTag)
                .type_description(),
        },
    ));
    let report = MmsPdu::Unconfirmed(UnconfirmedService::InformationReport(InformationReport {
        variables: VariableAccessSpecification::ListOfVariable(vec![
            VariableSpec::named(icc("Transfer_Set_Name")),
            VariableSpec::named(icc("P1")),
        ]),
        results: vec![
            AccessResult::Success(tase2_core::tase2::transfer_set::object_name_data(&icc(
                "TS1",
            ))),
            AccessResult::Success(Data::Structure(vec![
                Data::Float(Float::F32(1.0)),
                Data::Integer(1_700_000_000),
                Data::BitString(BitString {
                    octets: vec![0],
                    bits: 8,
                }),
            ])),
        ],
    }))
    .to_vec();
    let named = MmsPdu::Unconfirmed(UnconfirmedService::InformationReport(InformationReport {
        variables: VariableAccessSpecification::VariableListName(ObjectName::vmd("TS1")),
        results: vec![AccessResult::Success(Data::Integer(1))],
    }))
    .to_vec();
    let next_ts = read(Data::Structure(vec![
        Data::Unsigned(1),
        Data::VisibleString("ICC1".into()),
        Data::VisibleString("TS1".into()),
    ]));
    let odd_type = resp(ConfirmedResponse::GetVariableAccessAttributes(
        GetVariableAccessAttributesResponse {
            mms_deletable: false,
            type_description: TypeDescription::Integer(8),
        },
    ));
    let seeds: Vec<(&str, Vec<u8>)> = vec![
        (
            "00_discovery",
            framed(&[version.clone(), features, names, gvaa.clone()]),
        ),
        ("01_reports", framed(&[report.clone(), named, report])),
        ("02_transfer_set", framed(&[next_ts, gvaa, odd_type])),
        ("03_version_only", framed(&[version])),
    ];
    let dir =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/seeds/tase2_client");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, bytes) in seeds {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
}
