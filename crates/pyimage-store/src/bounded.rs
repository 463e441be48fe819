//! Reading a local file pyimage was pointed at (sources, locks, configuration, `.env` files, official-images files,
//! inspect output, CA bundles, Docker's credentials file) without trusting it to be sane: only a regular file (a FIFO
//! would block, `/dev/zero` never ends), and at most a given number of bytes. Every reader of a file a user controls
//! goes through [`read_regular`] (or [`read_text`]).

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

/// [`read_regular`] as UTF-8 text; invalid UTF-8 is an `InvalidData` error giving the offset of the first bad byte.
pub fn read_text(path: &Path, limit: u64) -> std::io::Result<String> {
    String::from_utf8(read_regular(path, limit)?).map_err(|error| {
        Error::new(
            ErrorKind::InvalidData,
            format!(
                "not UTF-8 text (invalid byte at offset {})",
                error.utf8_error().valid_up_to()
            ),
        )
    })
}
