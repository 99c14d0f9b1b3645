"""docker-py (Debian's python3-docker) against berthd: the calls a typical script makes.

Usage: python3 docker_py_smoke.py unix:///path/to/berth.sock
Prints one line per check; exits non-zero on the first failure.
"""
import io
import sys

import docker

client = docker.DockerClient(base_url=sys.argv[1], version="auto", timeout=60)


def check(name, cond, detail=""):
    if not cond:
        print(f"FAIL {name}: {detail}")
        sys.exit(1)
    print(f"ok {name}")


check("ping", client.ping() is True)
v = client.version()
check("version", v["ApiVersion"] == "1.45", v)
check("info", client.info()["Images"] >= 1)

img = client.images.get("busybox:latest")
check("images.get", "busybox:latest" in img.tags, img.tags)
check("images.list", any("busybox:latest" in i.tags for i in client.images.list()))

out = client.containers.run("busybox", ["sh", "-c", "echo out; echo err >&2"], remove=True, stderr=True)
check("containers.run foreground", out == b"out\nerr\n", out)

c = client.containers.run("busybox", ["sh", "-c", "echo started; sleep 300"], detach=True, name="pysmoke",
                          environment={"A": "1"}, labels={"who": "docker-py"})
c.reload()
check("containers.run detach", c.status == "running", c.status)
check("labels", c.labels.get("who") == "docker-py", c.labels)
rc, output = c.exec_run(["sh", "-c", "echo $A; exit 3"])
check("exec_run", rc == 3 and output == b"1\n", (rc, output))
check("logs", b"started" in c.logs())
check("containers.list", any(x.name == "pysmoke" for x in client.containers.list(filters={"label": "who=docker-py"})))
top = c.top()
check("top", any("sleep" in " ".join(p) for p in top["Processes"]), top)
c.stop(timeout=1)
res = c.wait()
check("wait", res["StatusCode"] == 137, res)
c.remove()
check("remove", not any(x.name == "pysmoke" for x in client.containers.list(all=True)))

vol = client.volumes.create("pysmoke-vol", labels={"k": "v"})
check("volumes.create", vol.name == "pysmoke-vol")
out = client.containers.run("busybox", ["sh", "-c", "echo data > /v/f && cat /v/f"], volumes={"pysmoke-vol": {"bind": "/v", "mode": "rw"}}, remove=True)
check("volume mount", out == b"data\n", out)
vol.remove()

image, logs = client.images.build(fileobj=io.BytesIO(b"FROM busybox\nENV PY=1\nRUN echo built > /built\nCMD [\"cat\", \"/built\"]\n"), tag="pysmoke:1", rm=True)
check("images.build", "pysmoke:1" in image.tags, image.tags)
check("build logs", any("Successfully built" in (l.get("stream") or "") for l in logs))
out = client.containers.run("pysmoke:1", remove=True)
check("run built image", out == b"built\n", out)
client.images.remove("pysmoke:1")

check("networks.list", {"bridge", "host", "none"} <= {n.name for n in client.networks.list()})
events = client.events(since=0, until=int(__import__("time").time()) + 1, decode=True)
check("events", any(e.get("Type") == "container" for e in events))
try:
    client.containers.get("nosuch-container")
    check("not found", False, "no error")
except docker.errors.NotFound as e:
    check("not found", "No such container" in str(e), str(e))
print("ALL OK")
