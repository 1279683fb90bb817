//! MMS Read response codec on the TASE.2 hot path: 1,000 Data_RealQTimeTag structures
//! { Value FLOAT32, TimeStamp INT32, Flags BIT STRING(8) }.
//!
//! `cargo bench -p tase2-core --bench mms_read -- --warm-up-time 1 --measurement-time 3`

#![allow(missing_docs)] // criterion_group! generates undocumented items

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use tase2_core::ber::{Reader, Tag, Writer};
use tase2_core::mms::data::write;
use tase2_core::mms::{
    AccessResult, BitString, ConfirmedResponse, Data, DataRef, DecodeLimits, Float, MmsPdu,
    ReadResponse,
};

const N: usize = 1000;

fn response() -> MmsPdu {
    let results = (0..N)
        .map(|i| {
            AccessResult::Success(Data::Structure(vec![
                Data::Float(Float::F32(i as f32 * 0.5)),
                Data::Integer(1_700_000_000 + i as i64),
                Data::BitString(BitString::from_octets(&[(i as u8) & 0xfc], 8)),
            ]))
        })
        .collect();
    MmsPdu::ConfirmedResponse {
        invoke_id: 42,
        response: ConfirmedResponse::Read(ReadResponse {
            variables: None,
            results,
        }),
    }
}

/// Decode the access results of a Read response into typed tuples, allocating only the output.
fn decode_typed(pdu: &[u8], out: &mut Vec<(f32, i32, u8)>) -> Option<()> {
    out.clear();
    let mut r = Reader::new(pdu);
    let mut resp = r.expect(Tag::context_cons(1)).ok()?.reader().ok()?;
    resp.expect(Tag::INTEGER).ok()?;
    let mut read = resp.expect(Tag::context_cons(4)).ok()?.reader().ok()?;
    let mut results = read.expect(Tag::context_cons(1)).ok()?.reader().ok()?;
    while let Some(t) = results.read_opt().ok()? {
        let DataRef::Structure(mut m) = DataRef::decode(&t).ok()? else {
            return None;
        };
        let v = DataRef::next_in(&mut m).ok()??.as_f32()?;
        let ts = DataRef::next_in(&mut m).ok()??.as_i64()? as i32;
        let (flags, _) = DataRef::next_in(&mut m).ok()??.as_bits()?;
        out.push((v, ts, flags.first().copied().unwrap_or(0)));
    }
    Some(())
}

fn bench(c: &mut Criterion) {
    let pdu = response();
    let mut buf = Vec::with_capacity(32 * 1024);
    pdu.encode(&mut Writer::new(&mut buf));
    let bytes = buf.clone();
    let values: Vec<(f32, i32, u8)> = (0..N)
        .map(|i| (i as f32 * 0.5, 1_700_000_000 + i as i32, (i as u8) & 0xfc))
        .collect();

    let mut g = c.benchmark_group("mms_read_1000_real_q_timetag");
    g.throughput(Throughput::Elements(N as u64));

    g.bench_function("encode_owned", |b| {
        b.iter(|| {
            buf.clear();
            black_box(&pdu).encode(&mut Writer::new(&mut buf));
            black_box(buf.len())
        })
    });

    g.bench_function("encode_direct", |b| {
        b.iter(|| {
            buf.clear();
            let mut w = Writer::new(&mut buf);
            tase2_core::mms::write_read_response(&mut w, 42, |w| {
                for &(v, ts, flags) in black_box(&values) {
                    write::structure(w, |w| {
                        write::float32(w, v);
                        write::integer(w, i64::from(ts));
                        write::bit_string(w, &[flags], 8);
                    });
                }
            });
            black_box(buf.len())
        })
    });

    let mut out = Vec::with_capacity(N);
    decode_typed(&bytes, &mut out).expect("decodes");
    assert_eq!(out, values);
    g.bench_function("decode_dataref_typed", |b| {
        b.iter(|| {
            decode_typed(black_box(&bytes), &mut out);
            black_box(out.len())
        })
    });

    let limits = DecodeLimits::default();
    g.bench_function("decode_owned_pdu", |b| {
        b.iter(|| black_box(MmsPdu::decode(black_box(&bytes), &limits).is_ok()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
