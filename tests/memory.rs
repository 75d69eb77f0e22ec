//! Reading hostile files costs bounded memory, whatever sizes they declare. Alone in its test
//! binary so that the children's peak memory measured here is only these commands'.

mod common;
use common::{gauntlet, stderr};

fn local_config(dir: &std::path::Path) {
    std::fs::write(dir.join("gauntlet.yaml"), gauntlet::config::LOCAL_DEFAULTS).unwrap();
}

fn header_file(header: &str, data_len: u64) -> Vec<u8> {
    let mut out = (header.len() as u64).to_le_bytes().to_vec();
    out.extend_from_slice(header.as_bytes());
    out.resize(out.len() + data_len as usize, 0);
    out
}

/// The peak resident memory of the largest child waited for so far, in MiB.
fn children_peak_mib() -> f64 {
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: getrusage writes one rusage struct to the pointer it is given.
    assert_eq!(
        unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) },
        0
    );
    usage.ru_maxrss as f64 / 1024.0
}

#[test]
fn files_declaring_gigabytes_are_refused_in_bounded_memory() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    local_config(d);

    // 1. A real 6 GiB file (sparse: it takes no disk) whose header honestly describes one
    //    6 GiB tensor: a reader that trusted sizes would read it all.
    let big = d.join("gradient-0-1-v1.safetensors");
    let header = r#"{"model.embed_tokens.weight.vals":{"dtype":"F32","shape":[1610612736],"data_offsets":[0,6442450944]}}"#;
    std::fs::write(&big, header_file(header, 0)).unwrap();
    let f = std::fs::OpenOptions::new().write(true).open(&big).unwrap();
    f.set_len(8 + header.len() as u64 + 6_442_450_944).unwrap();
    drop(f);
    let out = gauntlet(d).args(["inspect"]).arg(&big).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("too_large"), "{}", stderr(&out));

    // 2. A small file declaring a 10 GB tensor and a 40 GiB header.
    let lying = d.join("gradient-0-2-v1.safetensors");
    let header = r#"{"x":{"dtype":"F32","shape":[50000,50000],"data_offsets":[0,10000000000]}}"#;
    std::fs::write(&lying, header_file(header, 64)).unwrap();
    let out = gauntlet(d).args(["inspect"]).arg(&lying).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("data_beyond_file"),
        "{}",
        stderr(&out)
    );

    let mut huge_header = (40u64 << 30).to_le_bytes().to_vec();
    huge_header.extend_from_slice(b"{}");
    let p = d.join("gradient-0-3-v1.safetensors");
    std::fs::write(&p, huge_header).unwrap();
    let out = gauntlet(d).args(["inspect"]).arg(&p).output().unwrap();
    assert!(
        stderr(&out).contains("header_too_large"),
        "{}",
        stderr(&out)
    );

    let sync = d.join("sync-0-1-v1.safetensors");
    std::fs::write(
        &sync,
        header_file(
            r#"{"x":{"dtype":"F32","shape":[2000000000],"data_offsets":[0,8000000000]}}"#,
            8,
        ),
    )
    .unwrap();
    let out = gauntlet(d).args(["inspect"]).arg(&sync).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));

    // Loading libtorch alone takes a few hundred MiB; the files declared 6–40 GiB.
    let peak = children_peak_mib();
    assert!(peak < 1024.0, "peak memory of the checks: {peak:.0} MiB");
}
