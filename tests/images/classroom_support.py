"""The classroom stack started as its synthesised JSON describes it, with the week test's
machinery (week_support): synth for a roster, real Terraform for the expressions (the class's
secret files where path.module finds them), networks and volumes with the stack's labels,
containers through the Engine API with the provider's fields, the proxy on every student's
network. Used by test_classroom.py (a roster of 3) and by `npm run bench -- classroom` (25).

Names are the stack's own (the course is unique to the run), so the proxy's routes, which name
containers, are used as synthesised; image references are swapped for the images built here
and the PostgreSQL and nginx stand-ins.
"""

from __future__ import annotations

import concurrent.futures
import json
import shutil
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from image_support import DEBIAN_STANDIN, ROOT, ImageTestError, docker, inspect, labels, run
from week_support import (
    POSTGRES_STANDIN,
    WeekContainer,
    WeekStack,
    create_container,
    load_containers,
    remove_container,
    resolve_with_terraform,
    stack_refs,
    start_container,
    wait_healthy,
)

NGINX_STANDIN = "week-local/nginx-standin:1.22-bookworm"
HEALTHY_TIMEOUT_S = 240


def build_nginx_standin(say: Callable[[str], None]) -> None:
    if inspect("image", NGINX_STANDIN) is not None:
        return
    if inspect("image", DEBIAN_STANDIN) is None:
        raise ImageTestError(f"{DEBIAN_STANDIN} is missing: run scripts/setup/docker-bases.sh")
    say(f"building {NGINX_STANDIN} (Debian's nginx, scripts/setup/nginx-standin) ...")
    run(
        [
            "docker",
            "build",
            "--network",
            "host",
            "-t",
            NGINX_STANDIN,
            "scripts/setup/nginx-standin",
        ],
        timeout=600,
        cwd=ROOT,
    )


def write_roster(path: Path, ids: tuple[str, ...]) -> None:
    lines = ["id,name,email", *(f"{i},Student {i.title()},{i}@example.com" for i in ids)]
    path.write_text("\n".join(lines) + "\n")


def synth_class(workdir: Path, config: Path, out: Path) -> dict[str, Any]:
    run(
        ["npm", "run", "--silent", "synth"],
        timeout=600,
        env={"CDKTF_OUTDIR": str(out), "WEEK_CONFIG": str(config)},
        cwd=ROOT,
    )
    doc: dict[str, Any] = json.loads((out / "stacks" / "classroom" / "cdk.tf.json").read_text())
    return doc


@dataclass
class Klass:
    course: str
    doc: dict[str, Any]
    containers: dict[str, WeekContainer]  # by resource id, dependencies first
    images: dict[str, str]  # docker_image id -> image this run uses
    state: Path  # ROOT/state/classroom/<course>
    run_id: str
    workdir: Path
    config: Path
    roster: Path
    say: Callable[[str], None]
    proxy_port: int = 0

    def name(self, student: str, service: str) -> str:
        return f"{self.course}-{student}-{service}"

    def token(self, student: str) -> str:
        return (self.state / student / "jupyter_token").read_text().strip()

    def url(self, path: str) -> str:
        return f"https://127.0.0.1:{self.proxy_port}{path}"

    def tls(self) -> ssl.SSLContext:
        """Trusts the proxy's self-signed certificate only (and checks its name)."""
        context = ssl.create_default_context(cafile=str(self.state / "tls" / "cert.pem"))
        return context


def resolve(k: Klass, doc: dict[str, Any], containers: dict[str, WeekContainer]) -> None:
    """Resolves every container's env and uploads with real Terraform; the class's secret
    files are where path.module finds them (three folders up from the stack)."""
    refs = {f"{wc.resource}.name": wc.raw["name"] for wc in containers.values()}
    res = doc["resource"]
    refs |= {f"docker_volume.{vid}.name": v["name"] for vid, v in res["docker_volume"].items()}
    refs |= {f"docker_network.{nid}.name": n["name"] for nid, n in res["docker_network"].items()}
    refs |= {f"docker_image.{iid}.image_id": k.images[iid] for iid in res["docker_image"]}
    week = WeekStack(doc=doc, containers={}, volumes={})
    eval_root = k.workdir / "terraform-eval"
    target = eval_root / "state" / "classroom" / k.course
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(k.state, target)
    expressions = {f"env_{rid}": wc.raw.get("env") or [] for rid, wc in containers.items()}
    expressions |= {f"upload_{rid}": wc.raw.get("upload") or [] for rid, wc in containers.items()}
    resolved = resolve_with_terraform(
        week,
        k.workdir,
        refs=stack_refs(week, refs),
        database_env="",
        variables={},
        expressions=expressions,
    )
    for rid, wc in containers.items():
        wc.env = [str(e) for e in resolved[f"env_{rid}"]]
        wc.raw = {**wc.raw, "upload": resolved[f"upload_{rid}"]}


def network_of(wc: WeekContainer) -> list[str]:
    """The stack's network names of a container (resolved from the network resources)."""
    return [str(n["name"]) for n in wc.raw.get("networks_advanced", [])]


def launch(k: Klass, wc: WeekContainer, networks: dict[str, str]) -> None:
    """Creates and starts one container as the provider does; the proxy joins every network."""
    nets = [networks[n] for n in network_of(wc)]
    volumes = {vid: v["name"] for vid, v in k.doc["resource"].get("docker_volume", {}).items()}
    image = k.images[wc.image_resource]
    create_container(
        wc, name=wc.raw["name"], image=image, network=nets[0], volumes=volumes, run_id=k.run_id
    )
    for other in nets[1:]:
        docker("network", "connect", other, wc.raw["name"])
    start_container(wc.raw["name"])


def network_names(doc: dict[str, Any]) -> dict[str, str]:
    """`${docker_network.<id>.name}` -> the network's name."""
    return {
        f"${{docker_network.{nid}.name}}": n["name"]
        for nid, n in doc["resource"]["docker_network"].items()
    }


def create_networks_and_volumes(
    k: Klass, doc: dict[str, Any], only: set[str] | None = None
) -> None:
    for kind in ("docker_network", "docker_volume"):
        for rid, r in doc["resource"].get(kind, {}).items():
            if only is not None and rid not in only:
                continue
            lbl = [
                a for lb in r.get("labels", []) for a in ("--label", f"{lb['label']}={lb['value']}")
            ]
            if kind == "docker_network":
                docker(
                    "network", "create", "--driver", "bridge", *lbl, *labels(k.run_id), r["name"]
                )
            else:
                docker("volume", "create", *lbl, *labels(k.run_id), r["name"])


def course_objects(course: str) -> dict[str, list[str]]:
    """Containers, networks and volumes labelled with the course."""
    flt = ["--filter", f"label=course={course}"]
    found = {
        "containers": docker("ps", "-a", *flt, "--format", "{{.Names}}"),
        "networks": docker("network", "ls", *flt, "--format", "{{.Name}}"),
        "volumes": docker("volume", "ls", *flt, "--format", "{{.Name}}"),
    }
    return {kind: sorted(n for n in text.splitlines() if n.strip()) for kind, text in found.items()}


def teardown(course: str) -> None:
    objs = course_objects(course)
    for c in objs["containers"]:
        remove_container(c)
    for n in objs["networks"]:
        run(["docker", "network", "rm", n], timeout=120, check=False)
    for v in objs["volumes"]:
        run(["docker", "volume", "rm", "-f", v], timeout=120, check=False)


def prepare_class(
    *,
    workdir: Path,
    run_id: str,
    course: str,
    students: tuple[str, ...],
    services: list[str],
    built: Callable[[str], str],
    say: Callable[[str], None],
) -> Klass:
    """Synthesises the classroom stack for STUDENTS, resolves it, and creates its networks and
    volumes (nothing started). BUILT gives the image to run for an image the stack builds."""
    if inspect("image", POSTGRES_STANDIN) is None:
        raise ImageTestError(f"{POSTGRES_STANDIN} is missing: run scripts/setup/docker-bases.sh")
    build_nginx_standin(say)
    here = workdir / f"classroom-{course}"
    here.mkdir(exist_ok=True)
    roster = here / "roster.csv"
    write_roster(roster, students)
    config = here / "week.config.json"
    settings = {"roster": str(roster), "course": course, "services": services}
    config.write_text(json.dumps({"classroom": settings}))
    state = ROOT / "state" / "classroom" / course
    doc = synth_class(workdir, config, here / "cdktf.out")
    containers = load_containers(doc)
    images: dict[str, str] = {}
    for iid, img in doc["resource"]["docker_image"].items():
        if "build" in img:
            images[iid] = built(img["name"])
        elif img["name"].startswith("postgres:"):
            images[iid] = POSTGRES_STANDIN
        elif img["name"].startswith("nginx:"):
            images[iid] = NGINX_STANDIN
        else:
            raise ImageTestError(f"the classroom stack uses {img['name']}, which has no stand-in")
    k = Klass(course, doc, containers, images, state, run_id, workdir, config, roster, say)
    resolve(k, doc, containers)
    create_networks_and_volumes(k, doc)
    return k


def launch_class(k: Klass, parallelism: int = 10) -> None:
    """Starts every container as `terraform apply` walks the stack: at most PARALLELISM
    operations at once (Terraform's default), a container only once every container it
    depends on is created, and a container with `wait` holding its slot until Docker reports it
    healthy (the provider's create returns then). Among the containers ready to go, the stack's
    order (Terraform's is its own; the bench reports what this one gives)."""
    networks = network_names(k.doc)
    waiting = {rid: set(wc.depends_on) for rid, wc in k.containers.items()}
    dependents: dict[str, list[str]] = {rid: [] for rid in k.containers}
    for rid, deps in waiting.items():
        for dep in deps:
            dependents[dep].append(rid)

    def one(rid: str) -> str:
        wc = k.containers[rid]
        launch(k, wc, networks)
        if wc.raw.get("wait"):
            wait_healthy(wc.raw["name"], HEALTHY_TIMEOUT_S)
        return rid

    with concurrent.futures.ThreadPoolExecutor(max_workers=parallelism) as pool:
        running = {pool.submit(one, rid) for rid, deps in waiting.items() if not deps}
        while running:
            done, running = concurrent.futures.wait(
                running, return_when=concurrent.futures.FIRST_COMPLETED
            )
            for future in done:
                created = future.result()
                for other in dependents[created]:
                    waiting[other].discard(created)
                    if not waiting[other]:
                        running.add(pool.submit(one, other))
