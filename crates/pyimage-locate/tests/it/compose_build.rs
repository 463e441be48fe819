//! A Compose service with `build:` builds its image: its `image:` names the output (the tag Compose gives the built
//! image), not a base image to check or pin. The base is in the build's Dockerfile.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use pyimage_locate::manifests;

#[test]
fn image_of_a_service_with_build_is_not_a_base_image() {
    // The shape of most application stacks: the app is built and tagged, the database is pulled.
    let text = "\
x-app: &app
  build:
    context: .
    dockerfile: Dockerfile
services:
  web:
    build: .
    image: registry.example/web:1
  worker:
    <<: *app
    image: python3-worker:dev
  db:
    image: python:3.12-slim
";
    let scan = manifests::scan_compose(text);
    assert!(scan.error.is_none(), "{:?}", scan.error);
    let paths: Vec<&str> = scan.images.iter().map(|i| i.path.as_str()).collect();
    assert_eq!(paths, ["services.db.image"]);
}
