"""The deploy files agree with the code: each check here is a way a deployment would break."""

from __future__ import annotations

import importlib
import json
import re
import shlex
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import AliasChoices
from pydantic_settings import SettingsConfigDict

from services.registry import SERVICES as CLI_SERVICES
from shared.settings import ServiceSettings

ROOT = Path(__file__).resolve().parents[3]
DEPLOY = ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
DOCKERFILE = DEPLOY / "Dockerfile"
ENV_EXAMPLE = DEPLOY / "kecamatan" / "mojosari.env.example"
README = DEPLOY / "README.md"

SERVICES = ("registration", "certificates", "consultation", "survey", "dashboard")
# Used only while a service's settings module does not exist yet.
FALLBACK_PORTS = {
    "registration": 8001,
    "certificates": 8002,
    "consultation": 8003,
    "survey": 8004,
    "dashboard": 8005,
}
ENV_NAME = re.compile(
    r"\b(?:MENJAMU|REGISTRATION|CERTIFICATES|CONSULTATION|SURVEY|DASHBOARD)_[A-Z0-9_]+\b"
)
INTERPOLATION = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])([^}]*))?\}")


# --- helpers -------------------------------------------------------------------------------------


@cache
def settings_class(name: str) -> type[ServiceSettings]:
    """The service's Settings, else ServiceSettings with its env prefix (module missing)."""
    module_name = f"services.{name}.settings"
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        config = SettingsConfigDict(env_prefix=f"{name.upper()}_", extra="ignore")
        return type(f"{name.title()}Settings", (ServiceSettings,), {"model_config": config})
    settings: type[ServiceSettings] = module.Settings
    return settings


def default_port(name: str) -> int:
    cls = settings_class(name)
    return (
        cls.default_port
        if cls.default_port != ServiceSettings.default_port
        else FALLBACK_PORTS[name]
    )


def env_names_of(cls: type[ServiceSettings]) -> set[str]:
    """Env names pydantic-settings reads for a class: aliases as given, other fields prefixed."""
    prefix = str(cls.model_config.get("env_prefix", ""))
    names: set[str] = set()
    for field_name, info in cls.model_fields.items():
        alias = info.validation_alias or info.alias
        if isinstance(alias, str):
            names.add(alias.upper())
        elif isinstance(alias, AliasChoices):
            names.update(choice.upper() for choice in alias.choices if isinstance(choice, str))
        else:
            names.add(f"{prefix}{field_name}".upper())
    return names


@cache
def accepted_env_names() -> frozenset[str]:
    names: set[str] = set()
    for name in SERVICES:
        names |= env_names_of(settings_class(name))
    return frozenset(names)


@cache
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


def service(name: str) -> dict[str, Any]:
    services: dict[str, Any] = compose()["services"]
    assert name in services, f"compose.yaml has no service {name!r}"
    svc: dict[str, Any] = services[name]
    return svc


def as_list(command: Any) -> list[str]:
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def environment(svc: dict[str, Any]) -> dict[str, str]:
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) if "=" in item else (item, "") for item in env)
    return {str(key): "" if value is None else str(value) for key, value in env.items()}


def container_ports(svc: dict[str, Any]) -> set[int]:
    ports = set()
    for port in svc.get("ports", []):
        if isinstance(port, dict):
            ports.add(int(port["target"]))
        else:
            ports.add(int(str(port).split("/")[0].rsplit(":", 1)[-1]))
    return ports


def env_file_values(path: Path) -> dict[str, str]:
    values = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            key, sep, value = line.partition("=")
            assert sep, f"{path.name}: not KEY=value: {line!r}"
            values[key.strip()] = value.strip()
    return values


@cache
def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    instructions = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def dockerfile_env() -> dict[str, str]:
    env = {}
    for keyword, rest in dockerfile_instructions():
        if keyword == "ENV":
            for token in shlex.split(rest):
                key, _, value = token.partition("=")
                env[key] = value
    return env


# --- the settings the files name -----------------------------------------------------------------


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_reads_its_settings_with_its_own_prefix(name: str) -> None:
    assert settings_class(name).model_config.get("env_prefix") == f"{name.upper()}_"
    assert f"{name.upper()}_PUBLIC_URL" in accepted_env_names()


def test_the_cli_serves_exactly_the_services_compose_runs() -> None:
    assert tuple(CLI_SERVICES) == SERVICES
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["menjamu"] == "services.cli:main"


@pytest.mark.parametrize("path", [COMPOSE, ENV_EXAMPLE, DOCKERFILE, README], ids=lambda p: p.name)
def test_every_menjamu_or_service_env_name_in_the_deploy_files_is_a_real_setting(
    path: Path,
) -> None:
    used = set(ENV_NAME.findall(path.read_text()))
    unknown = sorted(used - accepted_env_names())
    assert not unknown, f"{path.name} names settings that no service reads: {unknown}"


def test_a_missing_settings_module_falls_back_to_the_shared_settings_with_the_prefix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def missing(module_name: str) -> None:
        raise ModuleNotFoundError(f"No module named {module_name!r}", name=module_name)

    monkeypatch.setattr(importlib, "import_module", missing)
    fallback = settings_class.__wrapped__("survey")
    assert issubclass(fallback, ServiceSettings)
    assert "SURVEY_PUBLIC_URL" in env_names_of(fallback)
    assert "SURVEY_CONSUMER_NAME" in env_names_of(fallback)
    assert "MENJAMU_ADMIN_TOKEN" in env_names_of(fallback)


def test_the_env_name_check_catches_a_typo() -> None:
    assert "REGISTRATION_PUBLIC_URL" in accepted_env_names()
    assert "MENJAMU_ADMIN_TOKEN" in accepted_env_names()
    assert "REGISTRATION_PUBLIC_URLS" not in accepted_env_names()
    assert "MENJAMU_HOST" not in accepted_env_names()  # the services read REGISTRATION_HOST etc.


# --- compose.yaml ---------------------------------------------------------------------------------


def test_redis_keeps_events_and_consumer_groups_across_a_restart() -> None:
    redis = service("redis")
    command = as_list(redis["command"])
    assert "--appendonly" in command
    assert command[command.index("--appendonly") + 1] == "yes"
    assert any(str(volume).endswith(":/data") for volume in redis.get("volumes", []))


def test_redis_requires_the_password_the_services_connect_with() -> None:
    """Security finding 13: Redis (names and phones in its streams) needs a password."""
    command = as_list(service("redis")["command"])
    password = command[command.index("--requirepass") + 1]
    assert password.startswith("${REDIS_PASSWORD:?")
    assert environment(service("redis"))["REDISCLI_AUTH"] == password
    for name in SERVICES:
        assert environment(service(name))["REDIS_URL"].startswith(f"redis://:{password}@")


def test_postgres_keeps_its_data_and_reports_when_it_is_ready() -> None:
    postgres = service("postgres")
    assert environment(postgres)["POSTGRES_DB"] == "menjamu"
    assert any("/var/lib/postgresql/data" in str(v) for v in postgres.get("volumes", []))
    assert "pg_isready" in " ".join(as_list(postgres["healthcheck"]["test"]))


def test_migrate_runs_once_the_database_is_healthy() -> None:
    migrate = service("migrate")
    assert as_list(migrate["command"]) == ["migrate"]
    assert migrate["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "redis" in migrate["depends_on"]


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_serves_itself_on_its_port_after_migrate_with_a_ready_check(name: str) -> None:
    svc = service(name)
    port = default_port(name)
    assert as_list(svc["command"]) == ["serve", name]
    assert port in container_ports(svc), f"{name} must publish port {port}"
    assert svc["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    check = " ".join(as_list(svc["healthcheck"]["test"]))
    assert f"127.0.0.1:{port}/ready" in check
    assert not svc["healthcheck"].get("disable", False)


@pytest.mark.parametrize("name", [*SERVICES, "migrate"])
def test_the_app_containers_are_configured_for_production(name: str) -> None:
    svc = service(name)
    env = environment(svc)
    assert env["MENJAMU_ENV"] == "production"
    assert env["DATABASE_URL"].startswith("postgresql://menjamu:${POSTGRES_PASSWORD")
    assert env["DATABASE_URL"].endswith(
        f"@postgres:5432/{environment(service('postgres'))['POSTGRES_DB']}"
    )
    assert env["REDIS_URL"] == (
        "redis://:${REDIS_PASSWORD:?set it in the kecamatan env file}@redis:6379/0"
    )
    assert svc["build"]["dockerfile"] == "deploy/Dockerfile"
    assert (COMPOSE.parent / svc["build"]["context"]).resolve() == ROOT
    if name != "migrate":
        assert f"{name.upper()}_PUBLIC_URL" in env


@pytest.mark.parametrize("name", SERVICES)
def test_the_admin_token_has_no_default(name: str) -> None:
    token = environment(service(name))["MENJAMU_ADMIN_TOKEN"]
    assert re.fullmatch(r"\$\{MENJAMU_ADMIN_TOKEN:\?[^}]*\}", token), token
    assert "MENJAMU_ADMIN_TOKEN:-" not in COMPOSE.read_text()


def test_the_example_env_file_defines_every_variable_compose_requires() -> None:
    values = env_file_values(ENV_EXAMPLE)
    required = {m[0] for m in INTERPOLATION.findall(COMPOSE.read_text()) if m[1] == ":?"}
    assert required, "compose.yaml should require its secrets with ${VAR:?message}"
    assert required <= values.keys(), f"missing from the example: {required - values.keys()}"
    # Shipped secrets would be deployed unchanged: they stay blank, so compose refuses to start.
    assert values["MENJAMU_ADMIN_TOKEN"] == ""
    assert values["POSTGRES_PASSWORD"] == ""


def test_the_env_file_each_service_reads_is_the_kecamatan_one() -> None:
    values = env_file_values(ENV_EXAMPLE)
    code = values["MENJAMU_DEFAULT_TENANT"]
    tenant = yaml.safe_load((DEPLOY / "tenants" / f"{code}.yaml").read_text())
    assert tenant["tenant"]["code"] == code
    for name in SERVICES:
        env_file = service(name)["env_file"]
        resolved = INTERPOLATION.sub(lambda m: values[m.group(1)], str(env_file))
        assert (DEPLOY / f"{resolved}.example").resolve() == ENV_EXAMPLE


# --- Dockerfile -----------------------------------------------------------------------------------


def test_the_image_installs_the_pdf_libraries_including_harfbuzz_subset() -> None:
    runs = " ".join(rest for keyword, rest in dockerfile_instructions() if keyword == "RUN")
    assert "apt-get install" in runs
    for package in (
        "libpango-1.0-0",
        "libpangoft2-1.0-0",
        "libharfbuzz-subset0",
        "fonts-dejavu-core",
    ):
        assert package in runs.split(), package
    assert re.search(r"pip install\b[^&;]*\s\.(\s|$)", runs), "the project is pip-installed"


def test_the_image_ships_the_tenant_files_where_the_settings_look() -> None:
    copies = [shlex.split(rest) for keyword, rest in dockerfile_instructions() if keyword == "COPY"]
    sources = {args[0].rstrip("/") for args in copies}
    assert {"pyproject.toml", "shared", "services", "deploy/tenants"} <= sources
    destination = next(args[-1] for args in copies if args[0].rstrip("/") == "deploy/tenants")
    # A non-editable install puts shared/ in site-packages, where the default tenants_dir
    # (<root>/deploy/tenants) does not exist: the image must say where the files are.
    assert dockerfile_env()["MENJAMU_TENANTS_DIR"].rstrip("/") == destination.rstrip("/")


def test_the_image_runs_menjamu_as_a_non_root_user_listening_on_all_interfaces() -> None:
    instructions = dict(dockerfile_instructions())
    assert json.loads(instructions["ENTRYPOINT"]) == ["menjamu"]
    assert json.loads(instructions["CMD"]) == ["serve", "registration"]
    assert instructions["FROM"] == "python:3.11-slim-bookworm"
    assert instructions.get("USER", "root") not in ("root", "0")
    env = dockerfile_env()
    for name in SERVICES:
        assert env[f"{name.upper()}_HOST"] == "0.0.0.0"
    exposed = {int(port) for port in instructions["EXPOSE"].split()}
    assert {default_port(name) for name in SERVICES} <= exposed


@pytest.mark.parametrize("name", SERVICES)
def test_the_example_values_and_compose_environment_validate_in_the_service_settings(
    name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    values = {
        key: value or f"filled-{key.lower()}" for key, value in env_file_values(ENV_EXAMPLE).items()
    }
    values.update({f"{n.upper()}_PUBLIC_URL": f"https://{n}.example.id" for n in SERVICES})
    compose_env = {
        key: INTERPOLATION.sub(lambda m: values.get(m.group(1), m.group(3) or ""), value)
        for key, value in environment(service(name)).items()
    }
    for key, value in {**values, **compose_env, **dockerfile_env()}.items():
        monkeypatch.setenv(key, value)
    settings = settings_class(name)()
    assert settings.environment == "production"
    assert settings.effective_public_url == f"https://{name}.example.id"
    assert settings.effective_database_url.startswith("postgresql+asyncpg://menjamu:")
    assert settings.host == "0.0.0.0"
    assert settings.effective_port == default_port(name)
    assert str(settings.tenants_dir) == dockerfile_env()["MENJAMU_TENANTS_DIR"]
