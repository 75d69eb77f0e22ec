//! dedupe: exact copies, noisy copies and blends of two victims are caught and the later
//! uploader blamed; honest peers with overlapping but independent data are left alone.

mod common;
use gauntlet::dedupe::{self, Fingerprint};
use gauntlet::model::checkpoint::Checkpoints;
use gauntlet::peer::{self, Behaviour, Job};
use gauntlet::record::{ObjectInfo, Record, Status};
use gauntlet::store::{LocalStore, Store};
use gauntlet::wire::{self, gradient};
use tch::Device;

#[test]
fn copies_are_caught_and_honest_peers_left_alone() {
    let (dir, cfg) = common::tiny_net();
    let d = dir.path();
    let store = LocalStore::open(d.join("store")).unwrap();
    let window = 4;
    let peers = [
        (1, Behaviour::Honest),
        (2, Behaviour::Honest),
        (3, Behaviour::Honest),
        (4, Behaviour::FreeRider),
        (
            5,
            Behaviour::Copycat {
                of: vec![1],
                perturb: 0.0,
            },
        ),
        (
            6,
            Behaviour::Copycat {
                of: vec![2],
                perturb: 0.2,
            },
        ),
        (
            7,
            Behaviour::Copycat {
                of: vec![1, 3],
                perturb: 0.0,
            },
        ),
    ];
    let (codec, layouts) = gauntlet::wire::layouts(&cfg, Device::Cpu).unwrap();
    let mut records = Vec::new();
    let mut prints = Vec::new();
    for (i, (uid, b)) in peers.iter().enumerate() {
        let job = Job {
            uid: *uid,
            window,
            behaviour: b.clone(),
            checkpoints: Checkpoints::Folder(d.join("ckpts")),
            state_dir: d.join("state"),
            max_batches: None,
        };
        peer::run(&cfg, &job, &store).unwrap();
        let key = wire::gradient_key(window, *uid, "1");
        let meta = store.head(&key).unwrap();
        let mut r = Record::new(window, *uid);
        r.object = Some(ObjectInfo {
            key: key.clone(),
            uploaded_at: Some(meta.uploaded_at.into()),
            ..Default::default()
        });
        records.push(r);
        let bytes = store.get(&key).unwrap().unwrap();
        let g = gradient::decode_file(
            &bytes,
            &gradient::Expect {
                layouts: &layouts,
                codec: &codec.params,
                window: None,
                uid: None,
            },
        )
        .unwrap();
        prints.push((i, Fingerprint::new(&layouts, &g.params)));
        std::thread::sleep(std::time::Duration::from_millis(20)); // distinct upload times
    }
    for (a, fa) in &prints {
        for (b, fb) in prints.iter().filter(|(b, _)| b > a) {
            let s = fa.compare(fb);
            eprintln!(
                "uid {} vs {}: overlap {:.3}, cosine {:.3}",
                peers[*a].0, peers[*b].0, s.overlap, s.cosine
            );
        }
    }
    dedupe::judge(&mut records, &prints, &cfg.hparams, &|_, _| false);
    for r in &records {
        eprintln!("uid {}: {} {:?}", r.uid, r.status, r.reason);
    }
    for uid in [1, 2, 3, 4] {
        assert_eq!(
            records[uid as usize - 1].status,
            Status::Ok,
            "uid {uid} did its own work: {:?}",
            records[uid as usize - 1].reason
        );
    }
    let copied = |uid: u16| {
        records[uid as usize - 1]
            .dedupe
            .as_ref()
            .unwrap()
            .copied_from
            .unwrap()
    };
    for uid in [5, 6, 7] {
        assert_eq!(
            records[uid as usize - 1].status,
            Status::Duplicate,
            "uid {uid} copied"
        );
    }
    assert_eq!(copied(5), 1);
    assert_eq!(copied(6), 2);
    assert!(
        [1, 3].contains(&copied(7)),
        "a blend of 1 and 3 is blamed on one of them"
    );
    assert_eq!(
        records[4].dedupe.as_ref().unwrap().level,
        Some(gauntlet::record::DedupeLevel::Mega),
        "an exact copy overlaps completely"
    );

    // The earlier uploader is never blamed: swap the times and the verdict follows them.
    let mut swapped = records.clone();
    for r in &mut swapped {
        r.status = Status::Ok;
        r.reason = None;
        r.dedupe = None;
    }
    let t1 = swapped[0].object.as_ref().unwrap().uploaded_at;
    swapped[0].object.as_mut().unwrap().uploaded_at =
        swapped[4].object.as_ref().unwrap().uploaded_at;
    swapped[4].object.as_mut().unwrap().uploaded_at = t1;
    dedupe::judge(&mut swapped, &prints, &cfg.hparams, &|_, _| false);
    assert_eq!(
        swapped[0].status,
        Status::Duplicate,
        "uid 1 now uploaded after its copy"
    );
    assert_eq!(swapped[4].status, Status::Ok);
}
