"""A node's credentials for a run: from the pipeline's block, else the environment, else none.

Credentials come from the pipeline file's ``credentials: {<type>: {...}}`` block when it has
one for the node's credential type, else from the environment variables the credential type
declares (its ``environment`` mapping). Values in the block may name environment variables so
that pipeline files can be committed without secrets. The rule, chosen so that a literal value
always stays literal:

- ``${NAME}`` is replaced by the environment variable ``NAME`` (an error if it is unset);
- ``$${`` writes a literal ``${`` (the only escape);
- every other ``$`` is an ordinary character: a token such as ``ab$Qx`` or ``ab$$cd`` is
  used exactly as written;
- a value that is only ``$NAME`` is refused, with a hint to write ``${NAME}``: it is the
  shell's spelling of a reference, and no credential looks like that.

"No credentials" (``None``, which lets a node with a sandbox use it) means that nothing asks
for a live account: a block for the type, or any of its environment variables set even to an
empty value, asks for one, so an unset variable is an error, never a quiet switch to a sandbox
(a cron job would report success having sent nothing).

The values of secret fields (``typeOptions.password``) are registered with
:mod:`plivo_node.core.redaction` as soon as they are read, before they are checked, and no
message built here ever contains one. What a valid value looks like is the node's business
(its client factory checks the fields it gets).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from plivo_node.core.errors import CredentialError
from plivo_node.core.redaction import register_secret
from plivo_node.core.words import did_you_mean
from plivo_node.description import CredentialType

Fields = dict[str, str]

# ``$${`` is a literal ``${``; ``${NAME}`` names an environment variable; any other ``$`` is text.
_ENV_REFERENCE = re.compile(r"\$(\$\{)|\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
_SHELL_REFERENCE = re.compile(r"\s*\$([A-Za-z_][A-Za-z0-9_]*)\s*")


def resolve_fields(
    credential: CredentialType,
    block: Mapping[str, Any] | None,
    environ: Mapping[str, str],
    *,
    service: str,
    other_types: Collection[str] = (),
) -> Fields | None:
    """The credential's fields for a run: the pipeline's block, else the environment, else None.

    ``block`` is the pipeline file's ``credentials`` mapping (``{<type>: {...}}``); the inner
    mapping of fields is accepted too. ``other_types`` are the credential types of the run's
    other nodes: their entries in the block are theirs, not an error. ``service`` names the far
    end in messages ("the environment asks for a live <service> account").
    """
    fields = _fields_in_block(credential, block, other_types)
    if fields is not None:
        return _from_block(credential, fields, environ)
    return _from_environment(credential, environ, service)


def block_problems(block: Any, credentials: Sequence[CredentialType]) -> list[str]:
    """The problems of a pipeline's credentials block, for the credential types of its nodes.

    Nothing the user wrote as a key is quoted (a token pasted as a key would be shown): only
    the names of credential types and their fields, which come from the node types.
    """
    if not isinstance(block, Mapping) or not block:
        return []
    by_name = {credential.name: credential for credential in credentials}
    if not any(key in by_name for key in block) and len(by_name) == 1:
        (only,) = by_name.values()
        if any(prop.name in block for prop in only.properties):
            return _field_problems("credentials", block, only)  # the inner mapping form
    problems: list[str] = []
    for key, value in block.items():
        credential = by_name.get(key) if isinstance(key, str) else None
        if credential is None:
            known = ", ".join(sorted(by_name)) or "none"
            problems.append(
                "credentials: an entry is not a credential type of this pipeline's nodes "
                f"(theirs: {known})" + did_you_mean(key, by_name)
            )
        elif value is not None and not isinstance(value, Mapping):
            problems.append(
                f"credentials.{key}: the value must be a mapping of its fields "
                f"({', '.join(prop.name for prop in credential.properties)})"
            )
        elif value is not None:
            problems.extend(_field_problems(f"credentials.{key}", value, credential))
    return problems


def _field_problems(where: str, fields: Mapping[Any, Any], credential: CredentialType) -> list[str]:
    known = [prop.name for prop in credential.properties]
    problems: list[str] = []
    if any(field not in known for field in fields):
        problems.append(f"{where}: unknown field (the fields are {', '.join(known)})")
    for prop in credential.properties:
        if prop.name not in fields:
            if prop.required:
                problems.append(f"{where}: '{prop.name}' is a required property")
            continue
        value = fields[prop.name]
        if not isinstance(value, str):
            problems.append(f"{where}.{prop.name}: the value is not of type 'string'")
        elif not value.strip():
            problems.append(f"{where}.{prop.name}: the value should be non-empty")
    return problems


def _fields_in_block(
    credential: CredentialType, block: Mapping[str, Any] | None, other_types: Collection[str]
) -> Mapping[str, Any] | None:
    name = credential.name
    if not block:
        return None
    if name in block:
        inner = block[name]
        if inner is None:
            return None
        if not isinstance(inner, Mapping):
            raise CredentialError(
                f"credentials.{name} must be a mapping of its fields",
                hint=f"write it as {name}: {{{_field_example(credential)}}}",
            )
        return inner
    if any(prop.name in block for prop in credential.properties):
        return block
    if all(key in other_types for key in block):
        return None  # the block is for the run's other nodes
    raise CredentialError(
        f"The credentials block has no {name} entry (found: {', '.join(sorted(map(str, block)))})",
        hint=f"write credentials: {{{name}: {{{_field_example(credential)}}}}}",
    )


def _field_example(credential: CredentialType) -> str:
    shown = [prop.name for prop in credential.properties if prop.required] or [
        credential.properties[0].name
    ]
    return ", ".join(f"{field}: ..." for field in shown)


def _required(credential: CredentialType) -> list[str]:
    return [prop.name for prop in credential.properties if prop.required]


def _from_block(
    credential: CredentialType, fields: Mapping[str, Any], environ: Mapping[str, str]
) -> Fields:
    name = credential.name
    known = [prop.name for prop in credential.properties]
    secrets = credential.secret_names()
    unknown = sorted(str(field) for field in fields if field not in known)
    if unknown:
        raise CredentialError(
            f"Unknown field in credentials.{name}: {', '.join(unknown)}",
            hint=f"the fields are {', '.join(known)}",
        )
    values: Fields = {}
    unset: list[CredentialError] = []  # every field naming an unset variable, reported at once
    for field in known:
        raw = fields.get(field)
        if raw is None:
            continue
        where = f"credentials.{name}.{field}"
        if not isinstance(raw, str):
            raise CredentialError(
                f"{where} must be a string, not {type(raw).__name__}",
                hint="quote the value in the pipeline file",
            )
        # A secret may be written literally: mask it before anything could print it.
        if field in secrets and not _is_reference(raw):
            register_secret(raw.strip())
        try:
            value = _expand_environment(raw, where, environ).strip()
        except CredentialError as error:
            unset.append(error)
            continue
        if field in secrets:
            register_secret(value)
        if value:
            values[field] = value
    if len(unset) == 1:
        raise unset[0]
    if unset:
        raise CredentialError(
            "; ".join(error.message for error in unset),
            hint="export them before the run, or write the values in the file",
        )
    required = _required(credential)
    for field in required:
        if field not in values:
            from_env = [credential.environment[f] for f in required if f in credential.environment]
            instead = f" or remove the block to use {' / '.join(from_env)}" if from_env else ""
            raise CredentialError(
                f"credentials.{name}.{field} is missing or empty",
                hint=f"give {' and '.join(required)} (or a ${{VAR}} reference){instead}",
            )
    for prop in credential.properties:
        if prop.name in values:
            continue
        variable = credential.environment.get(prop.name)
        fallback = environ.get(variable) if variable else None
        if fallback:
            values[prop.name] = fallback
        elif isinstance(prop.default, str) and prop.default:
            values[prop.name] = prop.default
    return values


def _is_reference(raw: str) -> bool:
    return bool(_ENV_REFERENCE.search(raw) or _SHELL_REFERENCE.fullmatch(raw))


def _expand_environment(raw: str, where: str, environ: Mapping[str, str]) -> str:
    """``raw`` with each ``${NAME}`` replaced by its environment variable (see the module doc)."""
    shell = _SHELL_REFERENCE.fullmatch(raw)
    if shell:
        name = shell.group(1)
        raise CredentialError(
            f"{where} is ${name}: only ${{{name}}} (with braces) reads an environment variable",
            hint=f"write {where.rsplit('.', 1)[-1]}: ${{{name}}}",
        )

    def substitute(match: re.Match[str]) -> str:
        if match.group(1):
            return "${"
        name = match.group(2)
        if name not in environ:
            raise CredentialError(
                f"{where} refers to environment variable {name}, which is not set",
                hint=f"export {name} before the run, or write the value in the file",
            )
        return environ[name]

    return _ENV_REFERENCE.sub(substitute, raw)


def _from_environment(
    credential: CredentialType, environ: Mapping[str, str], service: str
) -> Fields | None:
    variables = credential.environment
    names = [variables[prop.name] for prop in credential.properties if prop.name in variables]
    if not any(name in environ for name in names):
        return None  # nothing asks for a live account
    secrets = credential.secret_names()
    values: Fields = {}
    for field, variable in variables.items():
        value = environ.get(variable, "").strip()
        if field in secrets:
            register_secret(value)
        if value:
            values[field] = value
    required = _required(credential)
    missing = [field for field in required if field not in values]
    if missing:
        given = ", ".join(name for name in names if name in environ)
        problems = " and ".join(
            f"{variables[field]} is {'empty' if variables[field] in environ else 'not set'}"
            if field in variables
            else f"no environment variable gives {field}"
            for field in missing
        )
        wanted = " and ".join(variables[field] for field in required if field in variables)
        raise CredentialError(
            f"the environment asks for a live {service} account ({given} set) but {problems}",
            hint=f"set {wanted}, or unset every one of {', '.join(names)} to run without them",
        )
    for prop in credential.properties:
        if prop.name not in values and isinstance(prop.default, str) and prop.default:
            values[prop.name] = prop.default
    return values
