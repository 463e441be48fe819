//! The bounded reader against a FIFO swapped in under the path being read: a check of the path's type followed by
//! an open of the path would open the FIFO and block until a writer comes (forever); the reader must answer for
//! whatever it opened — the regular file's bytes or "not a regular file" — and never block.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// Reads attempted while the path keeps changing between a regular file and a FIFO.
const READS: usize = 50_000;

#[test]
fn a_fifo_swapped_in_while_a_file_is_read_never_blocks_the_reader() {
    let dir = tempfile::tempdir().unwrap();
    let target = dir.path().join(".env");
    let regular = dir.path().join("regular");
    let fifo = dir.path().join("fifo");
    std::fs::write(&regular, "PYTHON_IMAGE=python:3.12-slim\n").unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());

    // The path is always there, a regular file or the FIFO in turn: a hard link of one is renamed over it (each
    // rename atomic).
    let stop = Arc::new(AtomicBool::new(false));
    let swapper = {
        let (stop, target, regular, fifo) = (
            Arc::clone(&stop),
            target.clone(),
            regular.clone(),
            fifo.clone(),
        );
        std::thread::spawn(move || {
            let link = target.with_extension("next");
            while !stop.load(Ordering::Relaxed) {
                for held in [&regular, &fifo] {
                    let _ = std::fs::remove_file(&link);
                    if std::fs::hard_link(held, &link).is_ok() {
                        let _ = std::fs::rename(&link, &target);
                    }
                }
            }
        })
    };
    let (done, finished) = std::sync::mpsc::channel();
    let reader = {
        let target = target.clone();
        std::thread::spawn(move || {
            let (mut read, mut refused) = (0, 0);
            for _ in 0..READS {
                match pyimage_store::bounded::read_regular(&target, 1024) {
                    Ok(bytes) => {
                        assert_eq!(bytes, b"PYTHON_IMAGE=python:3.12-slim\n");
                        read += 1;
                    }
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                    Err(error) => {
                        assert!(error.to_string().contains("not a regular file"), "{error}");
                        refused += 1;
                    }
                }
            }
            let _ = done.send((read, refused));
        })
    };
    // A ceiling that turns a blocked reader into a failure, not a claim about speed.
    let outcome = finished.recv_timeout(Duration::from_secs(60));
    stop.store(true, Ordering::Relaxed);
    swapper.join().unwrap();
    let Ok((read, refused)) = outcome else {
        unblock(&[&target, &fifo]);
        panic!("the reader blocked: it opened a FIFO swapped in after the type check");
    };
    reader.join().unwrap();
    eprintln!("{read} reads of the file, {refused} of the FIFO refused");
}

/// Opens the FIFO for writing (without blocking), which lets a reader blocked in `open` go on.
fn unblock(paths: &[&Path]) {
    use std::os::unix::fs::OpenOptionsExt as _;
    for path in paths {
        let _ = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(path);
    }
}
