"""Deployment: the Dockerfile and compose.yaml, and a Python buildpack (Procfile, requirements.txt).

No Docker engine is needed. The image's own steps are scripts in deploy/, and these tests run
them as the Dockerfile does, outside Docker: the Dockerfile is parsed, its COPY lines are
carried out into a temporary directory standing for the image's file system (/app and
/var/lib/certdesk mapped into it), its index-building RUN step and its CMD are run there with
its ENV, and its HEALTHCHECK command is asked whether the server is healthy. The Slack Web API
is FakeSlack on 127.0.0.1. `docker compose config` validates compose.yaml where compose is
installed, and is skipped with the reason otherwise.
"""

from __future__ import annotations

import http.server
import json
import os
import posixpath
import shlex
import shutil
import socket
import subprocess
import sys
import threading
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path

import pytest
import yaml
from serve_process import stop
from slack_fixtures import BOT_TOKEN, SECRET, SECRETS, own_user
from slackstub import USER_ID, FakeSlack, post_signed, slash_command_body
from slackstub.fixtures import PROXY_VARIABLES, fake_slack  # noqa: F401  (fixture)

from index.store import content_hash, current_path, read_manifest
from index.config import Paths
from index.search import Engine

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
PYTHON = sys.executable
QUESTION = "TRUCS certificate number for object storage"
NUMBER = "02016"


# --- the Dockerfile, read --------------------------------------------------------------------


@dataclass(frozen=True)
class Instruction:
    keyword: str   # upper case
    args: str      # continuation lines joined

    def exec_form(self) -> list[str] | None:
        """The JSON array of an exec-form CMD/ENTRYPOINT/RUN, else None (shell form)."""
        return json.loads(self.args) if self.args.startswith("[") else None


def parse_dockerfile(text: str) -> list[Instruction]:
    instructions, pending = [], ""
    for line in text.splitlines():
        stripped = line.strip()
        if not pending and (not stripped or stripped.startswith("#")):
            continue
        if pending and stripped.startswith("#"):   # a comment inside a continued instruction
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        whole = (pending + stripped).strip()
        pending = ""
        keyword, _, args = whole.partition(" ")
        instructions.append(Instruction(keyword.upper(), " ".join(args.split()) if not args.lstrip().startswith("[")
                                        else args.strip()))
    assert not pending, "the Dockerfile ends inside a continued line"
    return instructions


def env_of(instructions: list[Instruction]) -> dict[str, str]:
    env: dict[str, str] = {}
    for ins in instructions:
        if ins.keyword == "ENV":
            for pair in shlex.split(ins.args):
                name, sep, value = pair.partition("=")
                assert sep, f"ENV {ins.args!r}: use NAME=value"
                env[name] = value
    return env


def healthcheck_command(ins: Instruction) -> list[str]:
    _options, sep, command = ins.args.partition("CMD ")
    assert sep, f"HEALTHCHECK without CMD: {ins.args!r}"
    return json.loads(command) if command.startswith("[") else ["/bin/sh", "-c", command]


def dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip().rstrip("/") for line in lines if line.strip() and not line.startswith("#")]


def ignored(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore keeps `path` (relative to the context) out of the build context."""
    parts = path.strip("/").split("/")
    prefixes = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
    for pattern in patterns:
        for prefix in prefixes:
            if fnmatch(prefix, pattern) or (pattern.startswith("**/") and fnmatch(prefix.split("/")[-1], pattern[3:])):
                return True
    return False


DOCKERFILE = parse_dockerfile((ROOT / "Dockerfile").read_text(encoding="utf-8"))


def the(keyword: str) -> Instruction:
    """The last instruction of that kind (the one in force)."""
    matching = [ins for ins in DOCKERFILE if ins.keyword == keyword]
    assert matching, f"the Dockerfile has no {keyword}"
    return matching[-1]


def index_of(ins: Instruction) -> int:
    return DOCKERFILE.index(ins)


def build_steps() -> list[Instruction]:
    """The RUN steps that run deploy/ scripts: the image's own build steps."""
    return [ins for ins in DOCKERFILE if ins.keyword == "RUN" and "/deploy/" in ins.args]


# --- the Dockerfile, checked -----------------------------------------------------------------


def test_dockerfile_is_python_311_slim_with_a_non_root_user_and_a_healthcheck() -> None:
    base = the("FROM").args.split()[0]
    assert base.startswith("python:3.11") and "slim" in base, base

    user = the("USER")
    name = user.args.split(":")[0]
    assert name not in ("root", "0", ""), f"USER {user.args}: the server must not run as root"
    created = [ins for ins in DOCKERFILE if ins.keyword == "RUN" and "useradd" in ins.args]
    assert created and name in shlex.split(created[0].args), f"USER {name} is never created"
    cmd = the("CMD")
    assert index_of(user) < index_of(cmd), "USER must come before CMD"

    # The health check asks /healthz on the port the server listens on.
    command = healthcheck_command(the("HEALTHCHECK"))
    script = next(part for part in command if part.endswith(".py"))
    assert script.startswith("/app/deploy/"), script
    source = (DEPLOY / Path(script).name).read_text(encoding="utf-8")
    assert "/healthz" in source and 'os.environ.get("PORT"' in source
    assert "--timeout=" in the("HEALTHCHECK").args


def test_dockerfile_serves_http_on_port_and_builds_the_index_as_that_user() -> None:
    cmd = the("CMD")
    argv = cmd.exec_form()
    if argv is None:   # shell form: PORT must be expanded by the shell, and exec'd
        argv = shlex.split(cmd.args)
        assert argv[0] == "exec", "a shell-form CMD must exec certdesk, or SIGTERM never reaches it"
        argv = argv[1:]
    assert argv[:3] == ["certdesk", "serve", "--http"], argv
    if "--port" in argv:
        # Exec form does not expand $PORT: only a shell-form CMD may say --port $PORT.
        assert cmd.exec_form() is None and argv[argv.index("--port") + 1] in ("$PORT", "${PORT}"), argv
    env = env_of(DOCKERFILE)
    assert env["PORT"] == "3000" and the("EXPOSE").args.split()[0].split("/")[0] == env["PORT"]

    (step,) = build_steps()
    assert index_of(the("USER")) < index_of(step), "the index must be built by the user that serves"
    copies = [ins for ins in DOCKERFILE if ins.keyword == "COPY"]
    copied = {shlex.split(ins.args)[0].rstrip("/") for ins in copies if index_of(ins) < index_of(step)}
    assert {"seeds", "data", "deploy"} <= copied, "seeds/, data/ and deploy/ are copied before the build step"
    assert env["CERTDESK_INDEX_DIR"] and env["CERTDESK_SEEDS_DIR"] == "/app/seeds" and env["CERTDESK_DATA_DIR"] == "/app/data"
    # The user owns the index directory (made and chowned before USER switches to it).
    setup = " ".join(ins.args for ins in DOCKERFILE if ins.keyword == "RUN" and "chown" in ins.args)
    assert env["CERTDESK_INDEX_DIR"] in setup and posixpath.dirname(env["CERTDESK_DB"]) in setup


def test_every_copied_path_exists_and_the_context_leaves_out_secrets_and_local_state() -> None:
    patterns = dockerignore_patterns()
    for ins in DOCKERFILE:
        if ins.keyword != "COPY":
            continue
        *sources, _ = [a for a in shlex.split(ins.args) if not a.startswith("--")]
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"
            assert not ignored(source, patterns), f"COPY {source}: excluded by .dockerignore"
    for local in (".env", ".venv", ".certdesk", ".git", "index/__pycache__"):
        assert ignored(local, patterns), f".dockerignore lets {local} into the build context"


# --- the image's build steps, run outside Docker -----------------------------------------------


def _run_build_script(env_overrides: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CERTDESK_")}
    env.update(env_overrides)
    return subprocess.run([PYTHON, str(DEPLOY / "build_index.py")], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


def test_build_script_makes_a_complete_fresh_index(tmp_path: Path) -> None:
    paths = Paths(seeds_dir=ROOT / "seeds", data_dir=ROOT / "data", index_dir=tmp_path / "index")
    result = _run_build_script({"CERTDESK_SEEDS_DIR": str(paths.seeds_dir), "CERTDESK_DATA_DIR": str(paths.data_dir),
                                "CERTDESK_INDEX_DIR": str(paths.index_dir)})
    assert result.returncode == 0, result.stderr
    built = current_path(paths.index_dir)
    assert built is not None and built.parent == paths.index_dir / "builds"
    manifest = read_manifest(built)
    assert manifest["content_hash"] == content_hash(paths)   # fresh: serve will not rebuild it
    assert manifest["sections"] > 0 and (built / "lexicon.json").is_file()
    assert f"index of {manifest['sections']} sections" in result.stdout and str(built) in result.stdout

    # What `certdesk index status` and a question see of it.
    status = subprocess.run([PYTHON, "-m", "bot", "index", "status"], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "CERTDESK_SEEDS_DIR": str(paths.seeds_dir),
                                 "CERTDESK_DATA_DIR": str(paths.data_dir), "CERTDESK_INDEX_DIR": str(paths.index_dir)})
    assert status.returncode == 0 and "up to date" in status.stdout, status.stdout + status.stderr
    engine = Engine.open(paths)
    try:
        answer = engine.ask(QUESTION)
    finally:
        engine.close()
    assert answer.answered and NUMBER in json.dumps(answer.to_dict())
    assert current_path(paths.index_dir) == built   # opening it did not rebuild it


BROKEN = {
    "an unclosed bracket": ("names: [TISAX,", "names: [[TISAX,"),
    "a certification without a name": ("  - name: TISAX\n", "  - nom: TISAX\n"),
}


@pytest.mark.parametrize("mistake", list(BROKEN))
def test_build_script_refuses_broken_data_with_the_file_and_line(tmp_path: Path, mistake: str) -> None:
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data, ignore=shutil.ignore_patterns("eval"))
    target = data / "certifications.yaml"
    text = target.read_text(encoding="utf-8")
    old, new = BROKEN[mistake]
    assert old in text
    target.write_text(text.replace(old, new, 1), encoding="utf-8")
    index_dir = tmp_path / "index"
    result = _run_build_script({"CERTDESK_SEEDS_DIR": str(ROOT / "seeds"), "CERTDESK_DATA_DIR": str(data),
                                "CERTDESK_INDEX_DIR": str(index_dir)})
    assert result.returncode == 1, result.stdout + result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"build_index: error: data is broken: {target}:"), result.stderr
    assert first.split(f"{target}:")[1].split(":")[0].isdigit(), "the line number is named"
    assert "no index was built" in result.stderr and "Traceback" not in result.stderr
    assert current_path(index_dir) is None and not (index_dir / "builds").exists()


def test_build_script_refuses_a_missing_data_directory_and_an_empty_seeds_directory(tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    no_data = _run_build_script({"CERTDESK_DATA_DIR": str(tmp_path / "nowhere"), "CERTDESK_INDEX_DIR": str(index_dir),
                                 "CERTDESK_SEEDS_DIR": str(ROOT / "seeds")})
    assert no_data.returncode == 1 and "data directory not found" in no_data.stderr, no_data.stderr
    (tmp_path / "empty").mkdir()
    no_seeds = _run_build_script({"CERTDESK_SEEDS_DIR": str(tmp_path / "empty"), "CERTDESK_INDEX_DIR": str(index_dir),
                                  "CERTDESK_DATA_DIR": str(ROOT / "data")})
    assert no_seeds.returncode == 1, no_seeds.stderr
    assert f"build_index: error: no documents in {tmp_path / 'empty'}" in no_seeds.stderr
    assert current_path(index_dir) is None


# --- the health check ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def stub_server() -> Iterator[tuple[int, dict]]:
    """An HTTP server on 127.0.0.1 answering every GET with `reply` (status, body); records paths."""
    reply: dict = {"status": 200, "body": b"ok\n", "paths": []}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            reply["paths"].append(self.path)
            self.send_response(reply["status"])
            self.send_header("Content-Length", str(len(reply["body"])))
            self.end_headers()
            self.wfile.write(reply["body"])

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], reply
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _healthcheck(port: int) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "PORT"}
    env["PORT"] = str(port)
    return subprocess.run([PYTHON, str(DEPLOY / "healthcheck.py")], env=env, cwd=ROOT, capture_output=True,
                          text=True, timeout=30)


def test_healthcheck_asks_healthz_on_port(stub_server) -> None:
    port, reply = stub_server
    ok = _healthcheck(port)
    assert ok.returncode == 0 and reply["paths"] == ["/healthz"], ok.stdout

    reply["status"], reply["body"] = 503, b"starting"
    down = _healthcheck(port)
    assert down.returncode == 1 and f"http://127.0.0.1:{port}/healthz answered 503" in down.stdout

    reply["status"], reply["body"] = 200, b"<html>some other server</html>"
    other = _healthcheck(port)
    assert other.returncode == 1 and "not ok" in other.stdout


def test_healthcheck_fails_when_nothing_listens() -> None:
    port = _free_port()   # closed again at once: nothing listens there
    result = _healthcheck(port)
    assert result.returncode == 1 and result.stdout.startswith(f"unhealthy: http://127.0.0.1:{port}/healthz")


# --- the image, run outside Docker ---------------------------------------------------------------


class Image:
    """The Dockerfile carried out in a temporary directory: /app and /var/lib/certdesk map into
    it; the packages are the ones installed in this virtual environment (the pip steps)."""

    MOUNTS = ("/app", "/var/lib/certdesk")

    def __init__(self, root: Path) -> None:
        self.root = root
        self.env = env_of(DOCKERFILE)
        workdir = "/"
        for ins in DOCKERFILE:
            if ins.keyword == "WORKDIR":
                workdir = posixpath.join(workdir, ins.args)
            elif ins.keyword == "COPY":
                *sources, dest = [a for a in shlex.split(ins.args) if not a.startswith("--")]
                target = posixpath.join(workdir, dest)
                if not target.startswith(self.MOUNTS):
                    continue   # the package source, for pip: installed here already
                for source in sources:
                    local = self.local(target)
                    if (ROOT / source).is_dir():
                        shutil.copytree(ROOT / source, local, ignore=shutil.ignore_patterns("__pycache__"))
                    else:
                        local.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copy2(ROOT / source, local)
        self.workdir = self.local(workdir)
        for mount in self.MOUNTS:   # made by the Dockerfile's RUN mkdir
            self.local(mount).mkdir(parents=True, exist_ok=True)
        self.local(self.env["CERTDESK_INDEX_DIR"]).mkdir(parents=True, exist_ok=True)

    def local(self, path: str) -> Path:
        for mount in self.MOUNTS:
            if path == mount or path.startswith(mount + "/"):
                return self.root / mount.strip("/").replace("/", "_") / path[len(mount):].lstrip("/")
        raise AssertionError(f"{path} is outside what this test maps")

    def argv(self, argv: list[str]) -> list[str]:
        out = []
        for arg in argv:
            if arg == "python":
                out.append(PYTHON)
            elif arg.startswith(self.MOUNTS):
                out.append(str(self.local(arg)))
            else:
                out.append(arg)
        return out

    def environ(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items()
               if k not in PROXY_VARIABLES and not k.startswith(("CERTDESK_", "SLACK_", "REDIS_"))
               and k not in ("PORT", "PYTHONPATH")}
        for name, value in self.env.items():
            env[name] = str(self.local(value)) if value.startswith(self.MOUNTS) else value
        env["PATH"] = f"{Path(PYTHON).parent}{os.pathsep}{env.get('PATH', '')}"   # `certdesk`
        env["HOME"] = str(self.root)
        env.update(extra)
        return env

    def files(self, mount: str) -> set[str]:
        base = self.local(mount)
        return {str(p.relative_to(base)) for p in base.rglob("*")}


def test_the_image_built_and_started_outside_docker(fake_slack: FakeSlack, tmp_path: Path) -> None:
    fake_slack.users[USER_ID] = own_user(USER_ID)
    image = Image(tmp_path)

    # docker build: the RUN step that builds the index, as the Dockerfile says it.
    (step,) = build_steps()
    build = subprocess.run(image.argv(shlex.split(step.args)), env=image.environ(), cwd=image.workdir,
                           capture_output=True, text=True, timeout=120)
    assert build.returncode == 0, build.stderr
    index_dir = image.local(image.env["CERTDESK_INDEX_DIR"])
    built = current_path(index_dir)
    assert built is not None
    app_files = image.files("/app")

    # docker run: CMD with the image's ENV and the two secrets, on a free port of 127.0.0.1.
    port = _free_port()
    env = image.environ(SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SECRET, SLACK_API_URL=fake_slack.base_url,
                        PORT=str(port), PYTHONUNBUFFERED="1")
    cmd = the("CMD").exec_form()
    assert cmd is not None
    health = image.argv(healthcheck_command(the("HEALTHCHECK")))
    assert subprocess.run(health, env=env, capture_output=True, timeout=30).returncode == 1   # not up yet
    log_path = tmp_path / "serve.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(image.argv(cmd) + ["--host", "127.0.0.1"], env=env, cwd=image.workdir,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 30
            while True:
                assert process.poll() is None, log_path.read_text()
                check = subprocess.run(health, env=env, capture_output=True, text=True, timeout=30)
                if check.returncode == 0:
                    break
                assert time.monotonic() < deadline, check.stdout + log_path.read_text()
                time.sleep(0.2)
            fake_slack.wait_for("auth.test", timeout=15)
            status, _, body = post_signed(f"http://127.0.0.1:{port}/slack/events",
                                          *slash_command_body("/cert", QUESTION), SECRET)
            assert status == 200 and NUMBER in body.decode("utf-8"), body
        finally:
            stop(process, timeout=20)   # docker stop: SIGTERM, then SIGKILL
    output = log_path.read_text()
    assert process.returncode == 0, output
    assert not any(secret in output for secret in SECRETS)
    # It served the index built with the image, without rebuilding it ...
    assert current_path(index_dir) == built and sorted((index_dir / "builds").iterdir()) == [built]
    # ... and wrote its state under /var/lib/certdesk (the volume), nothing under /app.
    assert image.files("/app") == app_files
    db = image.local(image.env["CERTDESK_DB"])
    assert db.parent == image.local("/var/lib/certdesk")
    state = image.files("/var/lib/certdesk")
    assert {db.name, db.name + ".salt"} <= state, state   # the question recorded, under its salt


# --- compose.yaml --------------------------------------------------------------------------------


COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text(encoding="utf-8"))


def test_compose_runs_certdesk_with_redis_and_postgres_state_on_a_volume() -> None:
    services = COMPOSE["services"]
    assert {"certdesk", "redis", "postgres"} <= set(services)
    bot, redis, postgres = services["certdesk"], services["redis"], services["postgres"]

    assert bot["build"] in (".", {"context": "."})
    env = bot["environment"]
    assert env["CERTDESK_DB"].startswith("postgresql://") and "@postgres:5432/" in env["CERTDESK_DB"]
    assert env["REDIS_URL"].startswith("redis://redis:")
    # The Slack secrets come from the caller's environment, required, never written here.
    for name in ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"):
        assert env[name].startswith("${" + name + ":?"), f"{name} must be required: ${{{name}:?message}}"
    assert env.get("SLACK_APP_TOKEN") is None, "the compose deployment serves HTTP (its port and health check)"
    assert bot["depends_on"] == {"redis": {"condition": "service_healthy"},
                                 "postgres": {"condition": "service_healthy"}}
    assert redis.get("healthcheck") and postgres.get("healthcheck")
    target = int(bot["ports"][0].split(":")[-1])
    assert target == int(env_of(DOCKERFILE)["PORT"])

    # The question log's database keeps its data on a named volume, declared at the top level.
    mounts = dict(v.split(":")[:2][::-1] for v in postgres["volumes"])
    volume = mounts["/var/lib/postgresql/data"]
    assert volume in COMPOSE["volumes"]
    user = postgres["environment"]["POSTGRES_USER"]
    database = postgres["environment"]["POSTGRES_DB"]
    assert env["CERTDESK_DB"].startswith(f"postgresql://{user}:") and env["CERTDESK_DB"].endswith(f"/{database}")
    # Neither store is published on the host.
    assert "ports" not in redis and "ports" not in postgres


def _compose_command() -> list[str]:
    """`docker compose` (the plugin) or the standalone `docker-compose`, or skip saying why."""
    tried = []
    for command in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(command[0]) is None:
            tried.append(f"{command[0]} not found")
            continue
        version = subprocess.run([*command, "version"], capture_output=True, text=True, timeout=60)
        if version.returncode == 0:
            return command
        tried.append(f"`{' '.join(command)} version` failed: {((version.stderr or version.stdout).strip().splitlines() or [''])[0][:120]}")
    pytest.skip("docker compose is not installed: " + "; ".join(tried))


def test_docker_compose_config_validates_and_requires_the_slack_secrets(tmp_path: Path) -> None:
    command = _compose_command()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "CERTDESK_", "POSTGRES_"))}
    env["DOCKER_CONFIG"] = str(tmp_path)   # no user's config or contexts
    args = [*command, "--project-directory", str(ROOT), "-f", str(ROOT / "compose.yaml"), "config"]
    ok = subprocess.run(args, env={**env, "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s"},
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stderr
    resolved = yaml.safe_load(ok.stdout)
    assert resolved["services"]["certdesk"]["environment"]["SLACK_BOT_TOKEN"] == "xoxb-1"
    missing = subprocess.run(args, env={**env, "SLACK_BOT_TOKEN": "xoxb-1"}, capture_output=True, text=True,
                             timeout=120)
    assert missing.returncode != 0 and "SLACK_SIGNING_SECRET" in missing.stderr


# --- a Python buildpack: Procfile, requirements.txt, .python-version ---------------------------


def _requirements(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PYTHON, str(DEPLOY / "requirements.py"), *args], capture_output=True, text=True,
                          timeout=60)


def test_requirements_txt_is_up_to_date_with_pyproject() -> None:
    result = _requirements("--check")
    assert result.returncode == 0, (f"{result.stdout}{result.stderr}\nrequirements.txt is generated: "
                                    "run `python deploy/requirements.py` and commit it")


def test_requirements_txt_lists_the_dependencies_then_certdesk_itself() -> None:
    with open(ROOT / "pyproject.toml", "rb") as handle:
        project = tomllib.load(handle)["project"]
    lines = [line for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()
             if line and not line.startswith("#")]
    assert lines == [*project["dependencies"], "."]
    assert not any(line.startswith(("pytest", "fpdf2")) for line in lines), "the test extra stays out"


def test_requirements_check_fails_when_pyproject_changes(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    shutil.copy(ROOT / "requirements.txt", tmp_path / "requirements.txt")
    text = (ROOT / "pyproject.toml").read_text(encoding="utf-8")
    pyproject.write_text(text.replace('"gunicorn>=22",', '"gunicorn>=23",\n    "example-added>=1",'),
                         encoding="utf-8")
    stale = _requirements("--check", "--pyproject", str(pyproject))
    assert stale.returncode == 1
    assert "+gunicorn>=23" in stale.stdout and "+example-added>=1" in stale.stdout and "-gunicorn>=22" in stale.stdout
    assert "out of date" in stale.stderr and "python deploy/requirements.py" in stale.stderr

    written = _requirements("--pyproject", str(pyproject))
    assert written.returncode == 0 and "example-added>=1\n" in (tmp_path / "requirements.txt").read_text()
    assert _requirements("--check", "--pyproject", str(pyproject)).returncode == 0


def test_procfile_and_python_version_for_a_buildpack() -> None:
    processes = dict(line.split(":", 1) for line in (ROOT / "Procfile").read_text(encoding="utf-8").splitlines()
                     if line.strip())
    processes = {name.strip(): command.strip() for name, command in processes.items()}
    assert processes["web"] == "certdesk serve --http --port $PORT"
    # The release step checks data/ and the index (the platform throws its disk away; the web
    # process builds its own index at start): the same script as the image's build step.
    release = shlex.split(processes["release"])
    assert release[0] == "python" and (ROOT / release[1]).resolve() == DEPLOY / "build_index.py"
    (step,) = build_steps()
    assert Path(shlex.split(step.args)[1]).name == Path(release[1]).name

    version = (ROOT / ".python-version").read_text(encoding="utf-8").strip()
    assert version == "3.11"
    assert the("FROM").args.startswith(f"python:{version}")
    with open(ROOT / "pyproject.toml", "rb") as handle:
        requires = tomllib.load(handle)["project"]["requires-python"]
    assert requires == ">=3.11" and tuple(map(int, version.split("."))) >= (3, 11)



def test_the_installed_package_holds_every_subpackage(tmp_path: Path) -> None:
    """`pip install .` (the Docker image) installs what pyproject.toml lists, not the source
    tree: a subpackage left out (index.readers, bot.surfaces) is an image that cannot start."""
    from setuptools import find_packages

    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    listed = config["packages"]
    if isinstance(listed, dict):   # [tool.setuptools.packages.find]
        listed = find_packages(str(ROOT), include=listed["find"]["include"])
    on_disk = {str(p.parent.relative_to(ROOT)).replace("/", ".")
               for top in ("bot", "index", "bench") for p in (ROOT / top).rglob("__init__.py")}
    assert on_disk <= set(listed), sorted(on_disk - set(listed))
