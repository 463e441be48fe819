//! Reading a local file pyimage was pointed at (a CA bundle here; sources, locks, configuration and inspect files in
//! the CLI) without trusting it to be sane: only a regular file (a FIFO would block, `/dev/zero` never ends), and at
//! most a given number of bytes. The lowest crate that reads files holds it so that every reader shares one.

use std::io::{Error, ErrorKind, Read as _};
use std::path::Path;

/// Reads at most `limit` bytes of a regular file: a FIFO, a device or anything larger than `limit` is an error
/// saying so.
pub fn read_regular(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let metadata = std::fs::metadata(path)?;
    if !metadata.is_file() {
        return Err(Error::new(
            ErrorKind::InvalidInput,
            "not a regular file (a FIFO or device is never read)",
        ));
    }
    if metadata.len() > limit {
        return Err(Error::new(
            ErrorKind::InvalidData,
            format!(
                "{} bytes, more than the {limit} pyimage reads",
                metadata.len()
            ),
        ));
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(limit + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(Error::new(
            ErrorKind::InvalidData,
            format!("more than the {limit} bytes pyimage reads"),
        ));
    }
    Ok(bytes)
}
