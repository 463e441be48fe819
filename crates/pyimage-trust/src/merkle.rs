//! RFC 6962 Merkle tree hashing: the root an inclusion proof leads to.

use sha2::{Digest, Sha256};

/// The leaf hash of an entry body.
pub fn leaf_hash(body: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update([0u8]);
    hasher.update(body);
    hasher.finalize().into()
}

fn node_hash(left: &[u8], right: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update([1u8]);
    hasher.update(left);
    hasher.update(right);
    hasher.finalize().into()
}

/// The root hash the proof leads to from `leaf` at `index` in a tree of `size` leaves (RFC 9162 2.1.3.2).
pub fn root_from_inclusion_proof(
    index: u64,
    size: u64,
    leaf: [u8; 32],
    proof: &[Vec<u8>],
) -> Result<[u8; 32], String> {
    if index >= size {
        return Err(format!("index {index} is not below tree size {size}"));
    }
    // Inner: the levels where the path has a sibling inside the tree; border: the right border above them.
    let inner = (u64::BITS - (index ^ (size - 1)).leading_zeros()) as usize;
    let border = (index >> inner).count_ones() as usize;
    if proof.len() != inner + border {
        return Err(format!(
            "{} proof hashes for index {index} in a tree of {size} ({} expected)",
            proof.len(),
            inner + border
        ));
    }
    let mut hash = leaf;
    for (level, sibling) in proof.iter().enumerate() {
        if sibling.len() != 32 {
            return Err("a proof hash is not 32 bytes".to_owned());
        }
        hash = if level >= inner || (index >> level) & 1 == 1 {
            node_hash(sibling, &hash)
        } else {
            node_hash(&hash, sibling)
        };
    }
    Ok(hash)
}
