//! OpenSkill Plackett–Luce against openskill.py 6.1.3 and 6.2.0 themselves (installed from PyPI
//! by scripts/setup), to 1e-9: 2–64 players, ties, exact zeros, −99 penalties, the kappa floor,
//! limit_sigma, and 20-round sequences over a population.

mod common;
use gauntlet::score::openskill::{PlackettLuce, Rating, TieRule};
use serde_json::{json, Value};

/// A small deterministic generator, so the cases are the same every run.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
    fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next()
    }
}

fn model(ties: TieRule, kappa: f64, limit_sigma: bool) -> PlackettLuce {
    PlackettLuce {
        mu: 25.0,
        sigma: 25.0 / 3.0,
        beta: 7.0,
        kappa,
        tau: 0.1,
        limit_sigma,
        ties,
    }
}

fn model_json(m: &PlackettLuce) -> Value {
    json!({"mu": m.mu, "sigma": m.sigma, "beta": m.beta, "kappa": m.kappa, "tau": m.tau, "limit_sigma": m.limit_sigma})
}

/// (case JSON, gauntlet's result) pairs.
fn cases(ties: TieRule) -> Vec<(Value, Vec<Rating>)> {
    let mut rng = Rng(0x005E_ED0F_0BE5);
    let mut out = Vec::new();
    let mut single = |m: &PlackettLuce,
                      players: Vec<Rating>,
                      scores: Option<Vec<f64>>,
                      ranks: Option<Vec<f64>>| {
        let p: Vec<Value> = players.iter().map(|r| json!([r.mu, r.sigma])).collect();
        let (case, got) = match (scores, ranks) {
            (Some(s), _) => (
                json!({"model": model_json(m), "players": p, "scores": s}),
                m.rate_scores(&players, &s),
            ),
            (_, Some(r)) => (
                json!({"model": model_json(m), "players": p, "ranks": r}),
                m.rate_ranks(&players, &r),
            ),
            _ => unreachable!(),
        };
        out.push((case, got));
    };
    let plain = model(ties, 1e-4, false);
    for &n in &[2usize, 3, 4, 5, 8, 16, 33, 64] {
        for round in 0..3 {
            let players: Vec<Rating> = (0..n)
                .map(|_| Rating {
                    mu: rng.range(5.0, 45.0),
                    sigma: rng.range(0.5, 9.0),
                })
                .collect();
            let scores: Vec<f64> = (0..n)
                .map(|_| match round {
                    0 => rng.range(-0.05, 0.05),
                    // Ties, exact zeros and −99 penalties mixed in.
                    1 => [0.0, -99.0, 0.01, rng.range(-0.05, 0.05)][(rng.next() * 4.0) as usize],
                    _ => [-99.0, 0.0][(rng.next() * 2.0) as usize],
                })
                .collect();
            single(&plain, players, Some(scores), None);
        }
    }
    // All tied, fresh players (the spec's case 10), and the spec's examples.
    single(&plain, vec![plain.rating(); 7], Some(vec![-99.0; 7]), None);
    single(
        &plain,
        vec![plain.rating(); 4],
        Some(vec![0.02, -99.0, 0.01, -99.0]),
        None,
    );
    single(
        &plain,
        vec![plain.rating(); 4],
        Some(vec![0.3, 0.1, -0.2, 0.0]),
        None,
    );
    // An integer-valued negative score can tie with a position under 6.1.3 (3 == 3.0).
    single(
        &plain,
        vec![plain.rating(); 5],
        Some(vec![0.1, 0.0, -3.0, 0.0, 0.2]),
        None,
    );
    // Explicit ranks, fractional ones truncated.
    single(
        &plain,
        vec![plain.rating(); 4],
        None,
        Some(vec![2.0, 1.0, 1.7, 4.0]),
    );
    // The kappa floor: a big kappa binds for every player.
    let floor = model(ties, 0.99, false);
    single(
        &floor,
        (0..6)
            .map(|i| Rating {
                mu: 20.0 + i as f64,
                sigma: 8.0,
            })
            .collect(),
        Some((0..6).map(|i| i as f64).collect()),
        None,
    );
    // limit_sigma: sigma never grows past its value before tau.
    let limited = model(ties, 1e-4, true);
    single(
        &limited,
        (0..5)
            .map(|i| Rating {
                mu: 25.0,
                sigma: 0.01 + i as f64 * 0.001,
            })
            .collect(),
        Some(vec![0.1, 0.2, 0.3, 0.4, 0.5]),
        None,
    );

    // 20-round sequences over a population of 12, 4 players a match, by score.
    for seq in 0..3 {
        let m = model(ties, 1e-4, seq == 2);
        let mut pop: Vec<Rating> = (0..12).map(|_| m.rating()).collect();
        let start = pop.clone();
        let mut rounds = Vec::new();
        for _ in 0..20 {
            let mut idx: Vec<usize> = (0..12).collect();
            for i in (1..12).rev() {
                idx.swap(i, (rng.next() * (i + 1) as f64) as usize);
            }
            let players: Vec<usize> = idx[..4].to_vec();
            let scores: Vec<f64> = players
                .iter()
                .map(|&p| {
                    if seq == 1 && p % 5 == 0 {
                        -99.0
                    } else {
                        rng.range(-0.02, 0.05) + p as f64 * 1e-3
                    }
                })
                .collect();
            let rated = m.rate_scores(
                &players.iter().map(|&p| pop[p]).collect::<Vec<_>>(),
                &scores,
            );
            for (&p, r) in players.iter().zip(rated) {
                pop[p] = r;
            }
            rounds.push(json!({"players": players, "scores": scores}));
        }
        let population: Vec<Value> = start.iter().map(|r| json!([r.mu, r.sigma])).collect();
        out.push((
            json!({"model": model_json(&m), "population": population, "rounds": rounds}),
            pop,
        ));
    }
    out
}

fn check(ties: TieRule, version: &str) {
    let dir = tempfile::tempdir().unwrap();
    let cases = cases(ties);
    let input = dir.path().join("cases.json");
    let output = dir.path().join("out.json");
    std::fs::write(
        &input,
        serde_json::to_string(&cases.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>()).unwrap(),
    )
    .unwrap();
    let venv = common::python()
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .to_path_buf();
    let out = std::process::Command::new(common::python())
        .arg(common::repo().join("tests/reference/openskill_vectors.py"))
        .args([&input, &output])
        .env("PYTHONPATH", venv.join(format!("openskill-{version}")))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openskill {version}: {}",
        common::stderr(&out)
    );
    let want: Vec<Vec<[f64; 2]>> =
        serde_json::from_str(&std::fs::read_to_string(&output).unwrap()).unwrap();
    let mut worst = 0f64;
    for (i, ((case, got), want)) in cases.iter().zip(&want).enumerate() {
        assert_eq!(got.len(), want.len(), "case {i}");
        for (g, w) in got.iter().zip(want) {
            let d = (g.mu - w[0]).abs().max((g.sigma - w[1]).abs());
            worst = worst.max(d);
            assert!(
                d <= 1e-9,
                "openskill {version} case {i}: got ({}, {}), expected ({}, {}); case {case}",
                g.mu,
                g.sigma,
                w[0],
                w[1]
            );
        }
    }
    eprintln!(
        "openskill {version}: {} cases, largest difference {worst:e}",
        cases.len()
    );
}

#[test]
fn matches_openskill_6_1_3() {
    check(TieRule::V6_1_3, "6.1.3");
}

#[test]
fn matches_openskill_6_2_0() {
    check(TieRule::V6_2_0, "6.2.0");
}

#[test]
fn the_two_tie_rules_differ_only_with_ties() {
    let (a, b) = (
        model(TieRule::V6_1_3, 1e-4, false),
        model(TieRule::V6_2_0, 1e-4, false),
    );
    let players = vec![a.rating(); 4];
    assert_eq!(
        a.rate_scores(&players, &[0.03, 0.01, 0.02, -0.5]),
        b.rate_scores(&players, &[0.03, 0.01, 0.02, -0.5])
    );
    let tied = [0.02, -99.0, 0.01, -99.0];
    assert_ne!(
        a.rate_scores(&players, &tied),
        b.rate_scores(&players, &tied)
    );
    let r = a.rate_scores(&players, &tied);
    assert!((r[0].mu - 27.39).abs() < 0.01 && (r[1].mu - 24.73).abs() < 0.01);
    assert_eq!(a.rating().ordinal(), 0.0);
}
