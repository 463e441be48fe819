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
    // `inner` is 64 for a tree of more than 2^63 entries: a shift by 64 would overflow.
    let border = index.checked_shr(inner as u32).unwrap_or(0).count_ones() as usize;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tree_of_one_and_absurd_sizes() {
        let leaf = leaf_hash(b"entry");
        assert_eq!(root_from_inclusion_proof(0, 1, leaf, &[]), Ok(leaf));
        assert!(root_from_inclusion_proof(1, 1, leaf, &[]).is_err());
        assert!(root_from_inclusion_proof(u64::MAX - 1, u64::MAX, leaf, &[]).is_err());
        assert!(root_from_inclusion_proof(1 << 63, u64::MAX, leaf, &[]).is_err());
        // size - 1 with the top bit set: 64 inner levels.
        assert!(root_from_inclusion_proof(0, (1 << 63) + 1, leaf, &[]).is_err());
    }
}
