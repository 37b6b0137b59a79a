//! Throughput of the AT wire model: lexing and classifying realistic modem output.
//! `cargo bench -p miplcheck-at --bench wire`; results in docs/benchmarks.md.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use miplcheck_at::dialect::BC39;
use miplcheck_at::{Classifier, Lexer};
use std::hint::black_box;
use std::time::Duration;

/// One query answer with echo, and a burst of URCs, as a BC39 prints them.
fn sample() -> Vec<u8> {
    let mut s = Vec::new();
    s.extend_from_slice(b"AT+MIPLCONFIG?\r\r\n+MIPLCONFIG:1,183.230.40.39,5683\r\n+MIPLCONFIG:2,2\r\n");
    s.extend_from_slice(b"+MIPLCONFIG:3,1\r\n+MIPLCONFIG:4,0\r\n+MIPLCONFIG:5,0\r\n+MIPLCONFIG:6,0\r\n\r\nOK\r\n");
    s.extend_from_slice(b"\r\n+MIPLEVENT: 0,6\r\n\r\n+MIPLOBSERVE: 0,78025,1,3311,0,-1\r\n");
    s.extend_from_slice(b"\r\n+MIPLWRITE: 0,46584,3311,0,5851,2,8,00000002DFDC1C3E,0,0\r\n");
    s.repeat(4096)
}

fn bench(c: &mut Criterion) {
    let input = sample();
    let mut g = c.benchmark_group("wire");
    g.throughput(Throughput::Bytes(input.len() as u64));
    g.bench_function("lex 64-byte reads", |b| {
        b.iter(|| {
            let mut lx = Lexer::new();
            let mut n = 0;
            for chunk in input.chunks(64) {
                n += lx.push(black_box(chunk), Duration::ZERO).len();
            }
            n
        })
    });
    g.bench_function("lex and classify", |b| {
        b.iter(|| {
            let mut lx = Lexer::new();
            let mut cl = Classifier::new(BC39.urc_prefixes());
            cl.command_sent("AT+MIPLCONFIG?");
            let mut urcs = 0;
            for chunk in input.chunks(64) {
                for f in lx.push(black_box(chunk), Duration::ZERO) {
                    urcs += usize::from(cl.classify(&f) == miplcheck_at::Class::Urc);
                }
            }
            urcs
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
