//! Copying a repository between registries byte for byte (same manifests, same digests), as `skopeo copy --all
//! --preserve-digests` or a faithful mirror would.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use anyhow::{Context as _, Result, bail};

use crate::client::RegistryClient;
use crate::oci::{
    Blob, DOCKER_MANIFEST, DOCKER_MANIFEST_LIST, ImageIndex, ImageManifest, OCI_INDEX, OCI_MANIFEST,
};
use crate::seeder::run_all;

/// Copies `tags` of `from_repository` on `from` to `to_repository` on `to`. Blobs found in `known` (by digest)
/// are not downloaded again; everything else is read from the source and verified against its digest. With
/// `destination_empty` (a registry just started), blobs are pushed without asking whether it has them.
pub(crate) async fn copy_tags(
    from: Arc<RegistryClient>,
    from_repository: &str,
    to: Arc<RegistryClient>,
    to_repository: &str,
    tags: &[String],
    known: &HashMap<String, Blob>,
    destination_empty: bool,
) -> Result<()> {
    let mut tops: Vec<(String, Blob)> = Vec::new();
    let mut children: BTreeMap<String, Blob> = BTreeMap::new();
    let mut blob_digests: BTreeMap<String, String> = BTreeMap::new();
    for tag in tags {
        let top = from
            .get_manifest(from_repository, tag)
            .await
            .with_context(|| format!("reading {from_repository}:{tag}"))?;
        let manifests = match top.media_type.as_str() {
            OCI_INDEX | DOCKER_MANIFEST_LIST => {
                let index: ImageIndex =
                    serde_json::from_slice(&top.bytes).context("parsing an index")?;
                index.manifests
            }
            OCI_MANIFEST | DOCKER_MANIFEST => Vec::new(),
            other => bail!("{from_repository}:{tag} has unsupported media type {other:?}"),
        };
        for descriptor in manifests {
            if children.contains_key(&descriptor.digest) {
                continue;
            }
            let child = match known.get(&descriptor.digest) {
                Some(blob) => blob.clone(),
                None => {
                    from.get_manifest(from_repository, &descriptor.digest)
                        .await?
                }
            };
            children.insert(descriptor.digest.clone(), child);
        }
        tops.push((tag.clone(), top));
    }
    for manifest in children.values().chain(tops.iter().map(|(_, top)| top)) {
        if manifest.media_type == OCI_MANIFEST || manifest.media_type == DOCKER_MANIFEST {
            let parsed: ImageManifest =
                serde_json::from_slice(&manifest.bytes).context("parsing a manifest")?;
            for descriptor in std::iter::once(parsed.config).chain(parsed.layers) {
                blob_digests.insert(descriptor.digest.clone(), descriptor.media_type);
            }
        }
    }

    let source = (Arc::clone(&from), from_repository.to_owned());
    let destination = (Arc::clone(&to), to_repository.to_owned());
    let blobs: Vec<(String, String, Option<Blob>)> = blob_digests
        .into_iter()
        .map(|(digest, media_type)| {
            let known = known.get(&digest).cloned();
            (digest, media_type, known)
        })
        .collect();
    run_all(
        blobs,
        |(digest, media_type, known): (String, String, Option<Blob>)| {
            let (from, from_repository) = source.clone();
            let (to, to_repository) = destination.clone();
            async move {
                if !destination_empty && to.blob_exists(&to_repository, &digest).await? {
                    return Ok(());
                }
                let blob = match known {
                    Some(blob) => blob,
                    None => Blob::new(&media_type, from.get_blob(&from_repository, &digest).await?),
                };
                to.push_blob(&to_repository, &blob).await
            }
        },
    )
    .await
    .context("copying blobs")?;
    run_all(children.into_values().collect(), |manifest: Blob| {
        let (to, to_repository) = destination.clone();
        async move {
            to.push_manifest(&to_repository, &manifest.digest, &manifest)
                .await
                .map(drop)
        }
    })
    .await
    .context("copying manifests")?;
    run_all(tops, |(tag, top): (String, Blob)| {
        let (to, to_repository) = destination.clone();
        async move { to.push_manifest(&to_repository, &tag, &top).await.map(drop) }
    })
    .await
    .context("copying tags")?;
    Ok(())
}
