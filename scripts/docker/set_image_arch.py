"""Give a local image the architecture its binaries have: ``docker import --platform`` is ignored by some engines
(Debian's docker.io 20.10 records the host's), and SAM CLI builds on the Lambda base image with ``--platform``,
which then refuses an arm64 root filesystem labelled amd64. The image goes through ``docker save``, its config's
``architecture`` is rewritten, and ``docker load`` brings it back under the same tag; the old image is removed.

    python3 scripts/docker/set_image_arch.py TAG ARCH      # ARCH as Docker names it: amd64, arm64
"""

from __future__ import annotations

import io
import json
import subprocess
import sys
import tarfile


def image_id(tag: str) -> str:
    return subprocess.run(
        ["docker", "image", "inspect", tag, "-f", "{{.Id}}"], capture_output=True, text=True, check=True
    ).stdout.strip()


def set_architecture(tag: str, arch: str) -> None:
    before = image_id(tag)
    save = subprocess.Popen(["docker", "save", tag], stdout=subprocess.PIPE)
    load = subprocess.Popen(["docker", "load", "-q"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL)
    if save.stdout is None or load.stdin is None:  # both were asked for as pipes
        raise SystemExit("docker save | docker load: no pipe")
    with tarfile.open(fileobj=save.stdout, mode="r|") as source, tarfile.open(fileobj=load.stdin, mode="w|") as sink:
        for member in source:
            data = source.extractfile(member) if member.isfile() else None
            if data is not None and "/" not in member.name and member.name.endswith(".json"):
                document = json.loads(data.read())
                if isinstance(document, dict) and "architecture" in document:  # the image config
                    document["architecture"] = arch
                raw = json.dumps(document).encode()
                member.size = len(raw)
                data = io.BytesIO(raw)
            sink.addfile(member, data)
    load.stdin.close()
    if save.wait() != 0 or load.wait() != 0:
        raise SystemExit(f"docker save | docker load of {tag} failed")
    if image_id(tag) != before:
        subprocess.run(["docker", "image", "rm", before], capture_output=True, check=False)


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    set_architecture(sys.argv[1], sys.argv[2])
