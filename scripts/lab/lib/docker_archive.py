#!/usr/bin/env python3
"""Wraps a root filesystem tarball into a single-layer image archive that `ctr images import` accepts.

There is no Docker engine or registry on the lab machine, so images are assembled by hand: the layer is the
rootfs tar as is, and the archive is the `docker save` layout (manifest.json + config + layer) with RepoTags.
"""
import argparse
import hashlib
import io
import json
import tarfile


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("rootfs", help="uncompressed tar of the image's root filesystem")
    parser.add_argument("output")
    parser.add_argument("--tag", action="append", required=True)
    parser.add_argument("--entrypoint", action="append", default=[])
    parser.add_argument("--cmd", action="append", default=[])
    parser.add_argument("--env", action="append", default=["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"])
    parser.add_argument("--arch", default="amd64")
    args = parser.parse_args()

    diff_id = sha256_file(args.rootfs)
    config = {
        "architecture": args.arch,
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": {"Env": args.env, "Entrypoint": args.entrypoint or None, "Cmd": args.cmd or None, "WorkingDir": "/"},
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff_id]},
        "history": [{"created": "1970-01-01T00:00:00Z", "created_by": "scripts/lab (mmdebstrap)"}],
    }
    config_bytes = json.dumps(config, sort_keys=True).encode()
    config_name = hashlib.sha256(config_bytes).hexdigest() + ".json"
    layer_name = diff_id + "/layer.tar"
    manifest = [{"Config": config_name, "RepoTags": args.tag, "Layers": [layer_name]}]

    def add_bytes(tar, name, data):
        info = tarfile.TarInfo(name)
        info.size = len(data)
        info.mtime = 0
        tar.addfile(info, io.BytesIO(data))

    with tarfile.open(args.output, "w") as tar:
        add_bytes(tar, config_name, config_bytes)
        tar.add(args.rootfs, arcname=layer_name)
        add_bytes(tar, "manifest.json", json.dumps(manifest).encode())


if __name__ == "__main__":
    main()
