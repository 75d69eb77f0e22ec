//! Data: packing, shards, pages and their assignment.

mod common;
use gauntlet::data::pack::{pack, DocSplit};
use gauntlet::data::{Dataset, PageAssigner, Tokenizer};
use std::collections::HashSet;

#[test]
fn packing_bytes_keeps_the_text_and_ends_documents() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir(&input).unwrap();
    std::fs::write(input.join("a.txt"), "héllo\n\nworld\n").unwrap();
    let out = dir.path().join("shards");
    let m = pack(&[input], &out, &Tokenizer::Bytes, DocSplit::Paragraph, 4).unwrap();
    assert_eq!(m.documents, 2);
    let expected: Vec<u32> = "héllo"
        .bytes()
        .map(u32::from)
        .chain([256])
        .chain("world".bytes().map(u32::from))
        .chain([256])
        .collect();
    assert_eq!(m.total_tokens(), expected.len() as u64);
    assert_eq!(m.shards.len(), expected.len().div_ceil(4));
    let mut got = Vec::new();
    for s in &m.shards {
        let bytes = std::fs::read(out.join(&s.file)).unwrap();
        assert_eq!(blake3::hash(&bytes).to_hex().to_string(), s.blake3);
        got.extend(
            bytes
                .chunks_exact(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]) as u32),
        );
    }
    assert_eq!(got, expected);
}

#[test]
fn pages_are_rows_of_one_shard() {
    let dir = tempfile::tempdir().unwrap();
    let m = pack(
        &[common::corpus()],
        dir.path(),
        &Tokenizer::Bytes,
        DocSplit::Paragraph,
        5000,
    )
    .unwrap();
    let ds = Dataset::open(dir.path(), 32, 4).unwrap();
    let per_shard: u64 = m.shards.iter().map(|s| s.tokens / 128).sum();
    assert_eq!(
        ds.num_pages(),
        per_shard,
        "a shard's tail that fills no page is not used"
    );
    let p = ds.page(ds.num_pages() - 1).unwrap();
    assert_eq!(p.size(), vec![4, 32]);
    assert!(ds.page(ds.num_pages()).is_err());
    let batches = ds.batches(&[0, 1, 2], 5).unwrap();
    assert_eq!(
        batches.iter().map(|b| b.size()[0]).collect::<Vec<_>>(),
        vec![5, 5, 2]
    );
    assert!(batches[0].get(0).equal(&ds.page(0).unwrap().get(0)));
}

#[test]
fn a_damaged_shard_folder_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let m = pack(
        &[common::corpus()],
        dir.path(),
        &Tokenizer::Bytes,
        DocSplit::Paragraph,
        1 << 20,
    )
    .unwrap();
    let shard = dir.path().join(&m.shards[0].file);
    let len = std::fs::metadata(&shard).unwrap().len();
    std::fs::OpenOptions::new()
        .write(true)
        .open(&shard)
        .unwrap()
        .set_len(len - 2)
        .unwrap();
    let err = Dataset::open(dir.path(), 32, 4).err().unwrap().to_string();
    assert!(
        err.contains("tokens-00000.bin") && err.contains("pack it again"),
        "{err}"
    );
    assert!(Dataset::open(&dir.path().join("nope"), 32, 4)
        .err()
        .unwrap()
        .to_string()
        .contains("gauntlet data pack"));
}

#[test]
fn hugging_face_tokenizer_json_packs() {
    let dir = tempfile::tempdir().unwrap();
    let tok = serde_json::json!({
        "version": "1.0",
        "truncation": null, "padding": null, "added_tokens": [],
        "normalizer": null,
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": null, "decoder": null,
        "model": {"type": "WordLevel", "vocab": {"[UNK]": 0, "</s>": 1, "the": 2, "river": 3, "sea": 4}, "unk_token": "[UNK]"}
    });
    let path = dir.path().join("tokenizer.json");
    std::fs::write(&path, tok.to_string()).unwrap();
    let t = Tokenizer::from_file(&path, None).unwrap();
    assert_eq!(t.eos_id(), 1);
    assert_eq!(
        t.encode("the river the sea boat").unwrap(),
        vec![2, 3, 2, 4, 0]
    );
    std::fs::write(dir.path().join("in.txt"), "the river\nthe sea\n").unwrap();
    let m = pack(
        &[dir.path().join("in.txt")],
        &dir.path().join("s"),
        &t,
        DocSplit::Line,
        100,
    )
    .unwrap();
    assert_eq!(m.total_tokens(), 6);
    assert_eq!(m.vocab_size, 5);
    assert!(Tokenizer::from_file(&path, Some("<nope>")).is_err());
}

#[test]
fn assignment_is_deterministic_and_keyed() {
    let a = PageAssigner::new("net-a", 10_000, 6).unwrap();
    let b = PageAssigner::new("net-a", 10_000, 6).unwrap();
    let c = PageAssigner::new("net-b", 10_000, 6).unwrap();
    for (uid, w) in [(0u16, 0u64), (7, 1234), (255, u64::MAX / 3)] {
        let pages = a.assigned(uid, w);
        assert_eq!(pages.len(), 6);
        assert_eq!(pages, b.assigned(uid, w));
        assert_ne!(
            pages,
            c.assigned(uid, w),
            "another network key gives other pages"
        );
        assert_eq!(
            pages.iter().collect::<HashSet<_>>().len(),
            6,
            "distinct within a window"
        );
        assert!(pages.iter().all(|&p| p < 10_000));
    }
}

#[test]
fn a_peers_pages_never_overlap_across_consecutive_windows() {
    // The reference's generator-offset pages overlap between consecutive windows; here the
    // pages of one peer are disjoint across any run of windows shorter than pages/P.
    let n = 1000u64;
    let a = PageAssigner::new("k", n, 6).unwrap();
    for uid in 0..64u16 {
        let mut seen = HashSet::new();
        for w in 0..(n / 6) {
            for p in a.assigned(uid, w) {
                assert!(seen.insert(p), "uid {uid} got page {p} twice by window {w}");
            }
        }
    }
    // Small data: consecutive windows are still disjoint while there are at least 2P pages.
    let small = PageAssigner::new("k", 12, 6).unwrap();
    for w in 0..50 {
        let (x, y): (HashSet<u64>, HashSet<u64>) = (
            small.assigned(3, w).into_iter().collect(),
            small.assigned(3, w + 1).into_iter().collect(),
        );
        assert!(x.is_disjoint(&y), "window {w}");
    }
}

#[test]
fn different_peers_get_independent_pages() {
    // Between peers the sets are independent draws: the mean overlap of two peers' 6-page
    // sets out of 1000 is 6·6/1000 = 0.036 pages. Over 255·200 pairs that mean is estimated to
    // within a few per cent; a shared stream or structured assignment would be far off.
    let n = 1000u64;
    let p = 6usize;
    let a = PageAssigner::new("independence", n, p).unwrap();
    let mut overlaps = 0usize;
    let mut pairs = 0usize;
    for w in 0..200u64 {
        let base: HashSet<u64> = a.assigned(0, w).into_iter().collect();
        for uid in 1..256u16 {
            overlaps += a
                .assigned(uid, w)
                .iter()
                .filter(|x| base.contains(x))
                .count();
            pairs += 1;
        }
    }
    let mean = overlaps as f64 / pairs as f64;
    let expected = (p * p) as f64 / n as f64;
    let sd = (expected / pairs as f64).sqrt(); // Poisson approximation
    assert!(
        (mean - expected).abs() < 5.0 * sd,
        "mean overlap {mean:.4}, expected {expected:.4} ± {sd:.4}"
    );

    // Every page is used about equally often across peers and windows (chi-square, 999 dof).
    let mut counts = vec![0u64; n as usize];
    for w in 0..100u64 {
        for uid in 0..100u16 {
            for q in a.assigned(uid, w) {
                counts[q as usize] += 1;
            }
        }
    }
    let e = (100 * 100 * p) as f64 / n as f64;
    let chi2: f64 = counts.iter().map(|&c| (c as f64 - e).powi(2) / e).sum();
    assert!(
        chi2 < 999.0 + 5.0 * (2.0f64 * 999.0).sqrt(),
        "chi-square {chi2:.0} for 999 dof"
    );
}

#[test]
fn random_pages_never_coincide_with_an_assigned_set() {
    let a = PageAssigner::new("k", 200, 6).unwrap();
    let uids: Vec<u16> = (0..20).collect();
    for w in 0..20 {
        let assigned: HashSet<u64> = uids.iter().flat_map(|&u| a.assigned(u, w)).collect();
        let random = a.random(99, w, 6, &uids).unwrap();
        assert_eq!(random.len(), 6);
        assert_eq!(random.iter().collect::<HashSet<_>>().len(), 6);
        assert!(random.iter().all(|p| !assigned.contains(p)), "window {w}");
        assert_eq!(
            random,
            a.random(99, w, 6, &uids).unwrap(),
            "same seed, same pages"
        );
        assert_ne!(
            random,
            a.random(100, w, 6, &uids).unwrap(),
            "another seed, other pages"
        );
    }
    let crowded = PageAssigner::new("k", 12, 6).unwrap();
    let err = crowded.random(1, 0, 6, &[1, 2, 3]).unwrap_err().to_string();
    assert!(err.contains("pack more text"), "{err}");
    assert!(
        PageAssigner::new("k", 5, 6).is_err(),
        "fewer pages than a window needs"
    );
}
