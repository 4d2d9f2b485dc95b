"""`python -m swe_selfplay.ray deploy|status|teardown`: the replicas of a deployment from a shell. Prints a
JSON line (the replicas' URLs, nodes and restarts) on stdout; a failure is one line on stderr, exit 1."""

from __future__ import annotations

import argparse
import json
import logging
import os
import shlex
import sys
from pathlib import Path

from .deployment import DEFAULT_NAME, connect, deploy
from .supervisor import DeploymentError


def _ports(text: str) -> tuple[int, int]:
    low, _, high = text.partition("-")
    try:
        return int(low), int(high or low)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--ports {text!r} is not LOW-HIGH") from None


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m swe_selfplay.ray",
                                     description="swe-selfplay serve replicas on a Ray cluster")
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("deploy", "status", "teardown"):
        command = commands.add_parser(name)
        command.add_argument("--address", default=os.environ.get("RAY_ADDRESS"),
                             help="the Ray cluster (host:port, ray://host:port or auto) [RAY_ADDRESS]")
        command.add_argument("--name", default=DEFAULT_NAME, help=f"the deployment's name [{DEFAULT_NAME}]")
        if name != "deploy":
            continue
        command.add_argument("--config", help="the service's YAML/JSON config file, shipped to every node")
        command.add_argument("--replicas", type=int, help="how many nodes get a replica [every matching node]")
        command.add_argument("--node-resource", help="only nodes with this custom resource, e.g. sandbox")
        command.add_argument("--ports", type=_ports, default=(8790, 8889), help="port range LOW-HIGH [8790-8889]")
        command.add_argument("--host", help="listen on and reach replicas at this address [each node's IP]")
        command.add_argument("--directory", help="per-node directory for stores and logs [~/.cache/swe-selfplay/ray]")
        command.add_argument("--cli", default="swe-selfplay", help="how to call the CLI on the nodes [swe-selfplay]")
        command.add_argument("--token-env", help="environment variable holding the bearer token the replicas require")
        command.add_argument("--health-timeout", type=float, default=120.0, help="seconds to wait for /v1/health")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=os.environ.get("SWE_SELFPLAY_LOG", "WARNING").upper(), stream=sys.stderr,
                        format="[ray] %(message)s")
    args = parse(argv)
    try:
        if args.command == "deploy":
            config: str | dict = {}
            if args.config:
                try:
                    config = Path(args.config).read_text()
                except OSError as error:
                    raise DeploymentError(f"--config {args.config} cannot be read: {error.strerror}") from None
            token = None
            if args.token_env:
                token = os.environ.get(args.token_env)
                if not token:
                    raise DeploymentError(f"--token-env {args.token_env} names an unset or empty variable")
            deployment = deploy(
                args.address, name=args.name, replicas=args.replicas, node_resource=args.node_resource,
                config=config, ports=args.ports, host=args.host, directory=args.directory,
                command=shlex.split(args.cli), token=token, health_timeout_s=args.health_timeout,
            )  # fmt: skip
        else:
            deployment = connect(args.address, args.name)
        infos = deployment.infos()
        if args.command == "teardown":
            deployment.teardown()
    except DeploymentError as error:
        print(f"swe_selfplay.ray {args.command}: {error}", file=sys.stderr)
        return 1
    print(json.dumps({"name": args.name, "replicas": infos}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
