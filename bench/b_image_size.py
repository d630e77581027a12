"""image-size: each image of the local stack, size above its base, when a Docker engine
answers. Re-uses the image tests' images (tags are content hashes of the synthesised build
contexts, so a tag names exactly this tree's image); with BENCH_BUILD_IMAGES=1 it builds the
missing ones itself, tagged h6-..., on the stand-in bases."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench import invocations as inv
from bench.common import ROOT, Size, goal, log, result, skipped

GOALS_MB = {"week-api": 150.0}


def docker(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


def inspect(ref: str) -> dict[str, Any] | None:
    proc = docker("image", "inspect", ref)
    return json.loads(proc.stdout)[0] if proc.returncode == 0 else None


def stack_images() -> list[tuple[str, Path, dict[str, str]]]:
    """(tag, build context, build args) of every image the local stack builds."""
    outdir = Path(tempfile.mkdtemp(prefix="bench-images-"))
    try:
        subprocess.run(
            inv.npm_synth(),
            cwd=ROOT,
            env={**os.environ, "CDKTF_OUTDIR": str(outdir)},
            check=True,
            capture_output=True,
            timeout=300,
        )
        stack = outdir / "stacks" / "local"
        doc = json.loads((stack / "cdk.tf.json").read_text())
        images = []
        for img in doc.get("resource", {}).get("docker_image", {}).values():
            build = img.get("build")
            if build:
                context = (stack / build["context"]).resolve()
                keep = Path(
                    tempfile.mkdtemp(prefix="ctx-")
                )  # outlives the synth folder
                shutil.copytree(context, keep, dirs_exist_ok=True)
                images.append(
                    (
                        img["name"],
                        keep,
                        dict(build.get("build_args") or build.get("build_arg") or {}),
                    )
                )
        return images
    finally:
        shutil.rmtree(outdir, ignore_errors=True)


def build(tag: str, context: Path, args: dict[str, str], base: str) -> str | None:
    # the wheels the locks name, served on loopback (the build checks the locks' hashes)
    mirror = subprocess.run(
        ["bash", "scripts/setup/pip-mirror.sh", "start"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    ours = inv.IMAGE_TAG_PREFIX + tag
    index = mirror.stdout.strip()
    build_args = {
        **args,
        "BASE_IMAGE": base,
        **({"PIP_INDEX_URL": index} if index else {}),
    }
    command = [
        "build",
        "--network",
        "host",
        "-t",
        ours,
        *(a for k, v in build_args.items() for a in ("--build-arg", f"{k}={v}")),
        str(context),
    ]
    log(f"image-size: building {ours} on {base}")
    proc = docker(*command, timeout=1800)
    return ours if proc.returncode == 0 else None


def run(size: Size, models: Any) -> list[dict[str, Any]]:
    if docker("info", timeout=20).returncode != 0:
        return [
            skipped("image-size", "MB", "no Docker engine answers (docker info failed)")
        ]
    rows = []
    for tag, context, args in stack_images():
        repo = tag.split(":", 1)[0]
        name = f"image-size-{repo.removeprefix('week-')}"
        base = inv.IMAGE_STANDINS.get(repo)
        base_data = inspect(base) if base else None
        if base_data is None:
            rows.append(
                skipped(
                    name,
                    "MB",
                    f"stand-in base {base} missing: run scripts/setup/docker-bases.sh",
                )
            )
            continue
        ref = tag if inspect(tag) else inv.IMAGE_TAG_PREFIX + tag
        if inspect(ref) is None:
            built = (
                build(tag, context, args, base)
                if os.environ.get("BENCH_BUILD_IMAGES") == "1"
                else None
            )
            if built is None:
                rows.append(
                    skipped(
                        name,
                        "MB",
                        f"{tag} is not built: run bash scripts/test/image-test.sh "
                        "(or BENCH_BUILD_IMAGES=1 npm run bench -- image-size)",
                    )
                )
                continue
            ref = built
        data = inspect(ref)
        assert data is not None
        layers, base_layers = data["RootFS"]["Layers"], base_data["RootFS"]["Layers"]
        if layers[: len(base_layers)] != base_layers:
            rows.append(skipped(name, "MB", f"{ref} is not built on {base}"))
            continue
        above = (int(data["Size"]) - int(base_data["Size"])) / 1e6
        log(f"image-size: {ref} {above:.0f} MB above {base}")
        row = result(
            name,
            "MB above base",
            base,
            int(base_data["Size"]) / 1e6,
            above,
            higher_is_better=False,
            runs=1,
            image=ref,
            layers_above_base=len(layers) - len(base_layers),
        )
        row["ratio"] = None  # the base's own size is context, not a contender
        if repo in GOALS_MB:
            row.update(
                goal(
                    f"under {GOALS_MB[repo]:.0f} MB above the slim base",
                    above < GOALS_MB[repo],
                )
            )
        rows.append(row)
        shutil.rmtree(context, ignore_errors=True)
    return rows or [skipped("image-size", "MB", "the local stack builds no image")]
