//! Reading a local file pyimage was pointed at (sources, locks, configuration, `.env` files, official-images files,
//! inspect output, CA bundles, Docker's credentials file) without trusting it to be sane: only a regular file (a FIFO
//! would block, `/dev/zero` never ends), and at most a given number of bytes. Every reader of a file a user controls
//! goes through [`read_regular`] (or [`read_text`]).

use std::io::{Error, ErrorKind, Read as _};
use std::path::Path;

/// Reads at most `limit` bytes of a regular file: a FIFO, a device or anything larger than `limit` is an error
/// saying so. The type is checked on the opened file, not on the path: a FIFO renamed over the path after a check of
/// the path would otherwise be the file opened, and block. Opening does not block (`O_NONBLOCK`, which changes
/// nothing for a regular file), so a FIFO is opened, seen for what it is, and closed unread.
pub fn read_regular(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let metadata = file.metadata()?;
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
    file.take(limit + 1).read_to_end(&mut bytes)?;
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
