"""JupyterHub for the classroom bench's baseline (bench/b_classroom_jupyterhub.py): DockerSpawner
starting one container per user from the class's sandbox image with jupyterhub added (Dockerfile
here), on one bridge network, behind configurable-http-proxy (package.json here) on loopback.
Every setting comes from the environment the bench gives the hub; nothing secret is in this file:
the bench's admin token is generated at run time and reaches the hub as BENCH_JHUB_TOKEN.
"""

import os
import secrets

c = get_config()  # type: ignore[name-defined]  # noqa: F821  # provided by traitlets

env = os.environ
work = env["BENCH_JHUB_WORK"]
prefix = env[
    "BENCH_JHUB_PREFIX"
]  # jhub-bench-<run>: every container and volume of the run

c.JupyterHub.bind_url = f"http://127.0.0.1:{env['BENCH_JHUB_PORT']}"
c.JupyterHub.hub_ip = env[
    "BENCH_JHUB_HUB_IP"
]  # the network's gateway: the containers call the hub
c.JupyterHub.hub_port = int(env["BENCH_JHUB_HUB_PORT"])
c.JupyterHub.db_url = f"sqlite:///{work}/jupyterhub.sqlite"
c.JupyterHub.cookie_secret_file = f"{work}/jupyterhub_cookie_secret"
c.JupyterHub.cleanup_servers = True
c.ConfigurableHTTPProxy.command = [env["BENCH_JHUB_CHP"]]
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{env['BENCH_JHUB_PROXY_API_PORT']}"
c.ConfigurableHTTPProxy.pid_file = f"{work}/jupyterhub-proxy.pid"

# Users come from the REST API only (no login page in the measure): the null authenticator.
c.JupyterHub.authenticator_class = "null"
c.Authenticator.allow_all = True
c.JupyterHub.services = [{"name": "bench", "api_token": env["BENCH_JHUB_TOKEN"]}]
c.JupyterHub.load_roles = [
    {
        "name": "bench",
        "scopes": [
            "admin:users",
            "admin:servers",
            "access:servers",
            "list:users",
            "read:users",
        ],
        "services": ["bench"],
    }
]

c.JupyterHub.spawner_class = "docker"
c.DockerSpawner.image = env["BENCH_JHUB_IMAGE"]
c.DockerSpawner.pull_policy = "never"
c.DockerSpawner.network_name = env["BENCH_JHUB_NETWORK"]
c.DockerSpawner.use_internal_ip = True
c.DockerSpawner.prefix = prefix
c.DockerSpawner.name_template = "{prefix}-{username}"
c.DockerSpawner.remove = True
# the sandbox's own workspace volume and memory ceiling, as the classroom stack gives each student
c.DockerSpawner.volumes = {f"{prefix}-{{username}}": "/home/student/workspace"}
c.DockerSpawner.mem_limit = int(env["BENCH_JHUB_MEM_LIMIT_MIB"]) * 2**20
c.DockerSpawner.port = 8000  # the sandbox's JUPYTER_PORT
c.DockerSpawner.cmd = [
    "jupyterhub-singleuser"
]  # through the sandbox's entrypoint (it execs "$@")
c.Spawner.environment = {
    # the sandbox's jupyter_server_config.py refuses to start without a token and sets the base
    # URL from JUPYTER_BASE_URL: a throw-away token (the hub's OAuth is what guards the server)
    "JUPYTER_TOKEN": lambda spawner: secrets.token_hex(16),
    "JUPYTER_BASE_URL": lambda spawner: f"/user/{spawner.user.name}/",
}
c.Spawner.start_timeout = 900
c.Spawner.http_timeout = 900
c.JupyterHub.concurrent_spawn_limit = 0  # no limit: the whole class at once, as ours
