"""deploy/ says one process layout five times (Procfile, gunicorn configs, compose, k8s, nginx):
the REST API and pages on the WSGI web tier, the WebSockets (/ws/) on the ASGI ws tier. These
tests read the files (Docker cannot run on the development machines) and hold them to each other;
tests/integration/test_process_layout.py runs the Procfile's processes for real.
"""

import re
import runpy
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

DEPLOY = Path(__file__).resolve().parent.parent / "deploy"
WEB = ["gunicorn", "config.wsgi:application", "-c", "deploy/gunicorn.conf.py"]
WS = ["gunicorn", "config.asgi:application", "-c", "deploy/gunicorn_ws.conf.py"]
TIER_VARIABLES = (
    "BIND",
    "WEB_CONCURRENCY",
    "WEB_THREADS",
    "WS_BIND",
    "WS_CONCURRENCY",
    "WS_PER_MESSAGE_DEFLATE",
)


def procfile() -> dict[str, list[str]]:
    lines = (DEPLOY / "Procfile").read_text().splitlines()
    return {name: shlex.split(cmd) for name, cmd in (line.split(": ", 1) for line in lines if line)}


def gunicorn_conf(name: str, monkeypatch, **env) -> dict:
    for variable in TIER_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    for variable, value in env.items():
        monkeypatch.setenv(variable, value)
    return runpy.run_path(str(DEPLOY / name))


def port(conf: dict) -> int:
    return int(conf["bind"].rsplit(":", 1)[1])


def test_the_procfile_serves_each_protocol_on_its_own_tier():
    processes = procfile()
    assert set(processes) == {"release", "web", "ws", "worker", "beat"}
    assert processes["web"] == WEB
    assert processes["ws"] == WS


def test_the_web_tier_runs_threads_sized_from_the_environment(monkeypatch):
    conf = gunicorn_conf("gunicorn.conf.py", monkeypatch, WEB_CONCURRENCY="3", WEB_THREADS="6")
    assert conf["worker_class"] == "gthread"
    assert (conf["workers"], conf["threads"]) == (3, 6)
    default = gunicorn_conf("gunicorn.conf.py", monkeypatch)
    assert default["threads"] == 8
    assert default["control_socket_disable"] is True


def test_the_ws_tier_runs_uvicorn_without_compression_unless_asked(monkeypatch):
    conf = gunicorn_conf("gunicorn_ws.conf.py", monkeypatch, WS_CONCURRENCY="3")
    assert conf["worker_class"] == "uvicorn_worker.UvicornWorker"
    assert conf["workers"] == 3
    assert conf["control_socket_disable"] is True

    class Worker:
        class config:
            ws_per_message_deflate = True

    conf["post_fork"](None, Worker)
    assert Worker.config.ws_per_message_deflate is False
    conf = gunicorn_conf("gunicorn_ws.conf.py", monkeypatch, WS_PER_MESSAGE_DEFLATE="1")
    conf["post_fork"](None, Worker)
    assert Worker.config.ws_per_message_deflate is True


def test_the_tiers_listen_on_different_ports_by_default(monkeypatch):
    web = gunicorn_conf("gunicorn.conf.py", monkeypatch)
    ws = gunicorn_conf("gunicorn_ws.conf.py", monkeypatch)
    assert (port(web), port(ws)) == (8000, 8001)


def test_the_wsgi_application_is_djangos():
    from django.core.handlers.wsgi import WSGIHandler

    from config.wsgi import application

    assert isinstance(application, WSGIHandler)


def test_compose_runs_both_tiers_behind_nginx():
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    services = compose["services"]
    assert services["web"]["command"] == WEB
    assert services["ws"]["command"] == WS
    assert "8001/healthz/" in services["ws"]["healthcheck"]["test"][-1]
    assert set(services["nginx"]["depends_on"]) == {"web", "ws"}


def test_kubernetes_routes_websockets_to_the_ws_deployment():
    docs = list(yaml.safe_load_all((DEPLOY / "k8s" / "hallq.yaml").read_text()))
    by_kind = {}
    for doc in docs:
        by_kind.setdefault(doc["kind"], {})[doc["metadata"]["name"]] = doc
    containers = {
        name: d["spec"]["template"]["spec"]["containers"][0]
        for name, d in by_kind["Deployment"].items()
    }
    assert containers["hallq-web"]["command"] == WEB
    assert containers["hallq-ws"]["command"] == WS
    assert containers["hallq-ws"]["ports"] == [{"containerPort": 8001}]
    assert containers["hallq-ws"]["readinessProbe"]["httpGet"]["port"] == 8001
    services = by_kind["Service"]
    assert services["hallq-ws"]["spec"]["selector"] == {"app": "hallq-ws"}
    assert services["hallq-ws"]["spec"]["ports"][0]["targetPort"] == 8001
    assert services["hallq-web"]["spec"]["ports"][0]["targetPort"] == 8000
    paths = by_kind["Ingress"]["hallq"]["spec"]["rules"][0]["http"]["paths"]
    routes = {p["path"]: p["backend"]["service"]["name"] for p in paths}
    assert routes == {"/ws/": "hallq-ws", "/": "hallq-web"}


def _nginx_locations(conf: str) -> dict[str, str]:
    """location -> the body of its block (no nested blocks in ours)."""
    return dict(re.findall(r"location\s+(\S+)\s*\{([^}]*)\}", conf))


def test_nginx_routes_websockets_to_the_ws_tier_with_the_upgrade_headers():
    conf = (DEPLOY / "nginx" / "hallq.conf").read_text()
    upstreams = dict(re.findall(r"upstream\s+(\w+)\s*\{\s*server\s+(\S+);", conf))
    assert upstreams == {"hallq_web": "web:8000", "hallq_ws": "ws:8001"}
    locations = _nginx_locations(conf)
    assert set(locations) == {"/ws/", "/"}
    assert "proxy_pass http://hallq_ws;" in locations["/ws/"]
    assert "proxy_set_header Upgrade $http_upgrade;" in locations["/ws/"]
    assert "proxy_set_header Connection $connection_upgrade;" in locations["/ws/"]
    assert "proxy_pass http://hallq_web;" in locations["/"]


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed")
def test_nginx_accepts_the_config(tmp_path):
    # nginx -t resolves upstream hosts: the compose service names become local addresses.
    conf = (DEPLOY / "nginx" / "hallq.conf").read_text()
    for host in ("web", "ws"):
        conf = conf.replace(f"server {host}:", "server 127.0.0.1:")
    conf = conf.replace("listen 80;", "listen 127.0.0.1:8080;")
    (tmp_path / "hallq.conf").write_text(conf)
    (tmp_path / "nginx.conf").write_text(
        f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
        f"http {{ access_log off; include {tmp_path}/hallq.conf; }}\n"
    )
    result = subprocess.run(
        ["nginx", "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
