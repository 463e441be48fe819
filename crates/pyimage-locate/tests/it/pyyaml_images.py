"""The image values PyYAML finds in YAML files, for the differential test in yaml_differential.rs.

For each path given, prints one JSON line: {"path", "ok", "error", "images"}. A document whose top level has a
`services` mapping is read as Compose (services.*.image, except services that `build:` theirs); any other is read as Kubernetes (the `image` of every
container, init container and ephemeral container of a pod spec, and the `image.reference` of every image volume
(Kubernetes' ImageVolumeSource), following the same objects as pyimage's locator).
"""

import json
import sys

import yaml

FIELDS = ("containers", "initContainers", "ephemeralContainers")
MAX_LIST_DEPTH = 8


def get(node, key):
    return node.get(key) if isinstance(node, dict) else None


def add(images, value):
    # `image:` with no value names nothing; pyimage compares the YAML string value.
    if value is None:
        return
    images.add(value if isinstance(value, str) else str(value))


def pod_specs(obj):
    kind = get(obj, "kind")
    spec = get(obj, "spec")
    specs = []
    if kind == "Pod" and spec is not None:
        specs.append(spec)
    specs.append(get(get(spec, "template"), "spec"))
    specs.append(get(get(get(get(spec, "jobTemplate"), "spec"), "template"), "spec"))
    if kind == "PodTemplate":
        specs.append(get(get(obj, "template"), "spec"))
    return [s for s in specs if isinstance(s, dict)]


def kubernetes(obj, images, depth=0):
    if not isinstance(obj, dict):
        return
    kind = get(obj, "kind")
    if isinstance(kind, str) and kind.endswith("List") and "items" in obj:
        if depth < MAX_LIST_DEPTH and isinstance(obj["items"], list):
            for item in obj["items"]:
                kubernetes(item, images, depth + 1)
        return
    for spec in pod_specs(obj):
        for field in FIELDS:
            containers = spec.get(field)
            if isinstance(containers, list):
                for container in containers:
                    if isinstance(container, dict) and "image" in container:
                        add(images, container["image"])
        volumes = spec.get("volumes")
        if isinstance(volumes, list):
            for volume in volumes:
                source = get(volume, "image")
                if isinstance(source, dict) and "reference" in source:
                    add(images, source["reference"])


def compose(doc, images):
    for service in doc["services"].values():
        # A service with `build:` names the image Compose builds, not a base image: pyimage does not report it.
        if isinstance(service, dict) and "image" in service and "build" not in service:
            add(images, service["image"])


def scan(path):
    images = set()
    try:
        with open(path, "rb") as handle:
            documents = list(yaml.safe_load_all(handle))
    except yaml.YAMLError as error:
        return {"path": path, "ok": False, "error": str(error).splitlines()[0], "images": []}
    for doc in documents:
        if isinstance(doc, dict) and isinstance(doc.get("services"), dict):
            compose(doc, images)
        else:
            kubernetes(doc, images)
    return {"path": path, "ok": True, "error": None, "images": sorted(images)}


for arg in sys.argv[1:]:
    print(json.dumps(scan(arg)))
