"""Resolve CloudFormation intrinsic functions the way ``sam local`` does, as far as a local run can.

Supported: ``Ref`` (parameters, pseudo parameters, resources -> their logical id), ``Fn::If`` with the template's
``Conditions`` (``Fn::Equals``/``Not``/``And``/``Or``/``Condition``), ``Fn::Sub`` (``${Param}``, ``${AWS::Region}``,
``${Resource.Attr}``, ``${!Literal}`` and the list form with its own variables), ``Fn::Join``, ``Fn::Select``,
``Fn::Split``, ``Fn::FindInMap``, ``Fn::GetAZs``. Values that only exist in a deployed stack (``Fn::GetAtt``,
``Fn::ImportValue``) resolve to a readable placeholder such as ``Resource.Arn``. ``AWS::NoValue`` removes the key.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from harness.emulator.errors import TemplateError

__all__ = ["NO_VALUE", "Resolver"]

NO_VALUE = object()  # AWS::NoValue: the property is dropped
_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


class Resolver:
    """Resolves intrinsics against parameter values, pseudo parameters, conditions, mappings and resource ids."""

    def __init__(
        self,
        *,
        parameters: Mapping[str, Any],
        pseudo: Mapping[str, str],
        conditions: Mapping[str, Any],
        mappings: Mapping[str, Any],
        resources: Mapping[str, Any],
    ) -> None:
        self._parameters = parameters
        self._pseudo = pseudo
        self._condition_exprs = conditions
        self._mappings = mappings
        self._resources = resources
        self._condition_values: dict[str, bool] = {}

    def condition(self, name: str) -> bool:
        """The value of the template condition ``name`` (TemplateError if it does not exist)."""
        if name not in self._condition_values:
            if name not in self._condition_exprs:
                raise TemplateError(f"condition {name!r} is used but not defined under Conditions")
            self._condition_values[name] = bool(self._truth(self._condition_exprs[name]))
        return self._condition_values[name]

    def _truth(self, expr: Any) -> bool:
        if isinstance(expr, dict) and len(expr) == 1:
            ((key, arg),) = expr.items()
            if key == "Condition":
                return self.condition(arg)
            if key == "Fn::Equals":
                left, right = (self.resolve(item) for item in arg)
                return str(left) == str(right)
            if key == "Fn::Not":
                return not self._truth(arg[0])
            if key == "Fn::And":
                return all(self._truth(item) for item in arg)
            if key == "Fn::Or":
                return any(self._truth(item) for item in arg)
        value = self.resolve(expr)
        if isinstance(value, str):
            return value.lower() == "true"
        return bool(value)

    def ref(self, name: str) -> Any:
        if name in self._parameters:
            return self._parameters[name]
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self._pseudo:
            return self._pseudo[name]
        if name in self._resources:
            return name
        raise TemplateError(f"Ref to {name!r}: no parameter, pseudo parameter or resource has that name")

    def resolve(self, value: Any) -> Any:
        """``value`` with every intrinsic replaced; dict keys whose value is ``AWS::NoValue`` are dropped."""
        if isinstance(value, list):
            return [item for item in (self.resolve(item) for item in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref":
                return self.ref(arg)
            if key.startswith("Fn::") or key == "Condition":
                return self._function(key, arg)
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def _function(self, key: str, arg: Any) -> Any:
        if key == "Fn::If":
            name, if_true, if_false = arg
            return self.resolve(if_true if self.condition(name) else if_false)
        if key in ("Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition"):
            return self._truth({key: arg})
        if key == "Fn::Sub":
            return self._sub(arg)
        if key == "Fn::Join":
            delimiter, items = arg
            return str(delimiter).join(str(item) for item in self.resolve(items))
        if key == "Fn::Select":
            index, items = self.resolve(arg)
            return items[int(index)]
        if key == "Fn::Split":
            delimiter, text = self.resolve(arg)
            return str(text).split(delimiter)
        if key == "Fn::FindInMap":
            name, top, second = self.resolve(arg)
            try:
                return self._mappings[name][top][second]
            except KeyError as exc:
                raise TemplateError(f"Fn::FindInMap: no {name}/{top}/{second} under Mappings") from exc
        if key == "Fn::GetAZs":
            region = self._pseudo["AWS::Region"]
            return [f"{region}a", f"{region}b", f"{region}c"]
        if key == "Fn::GetAtt":
            parts = arg if isinstance(arg, list) else str(arg).split(".", 1)
            return ".".join(str(self.resolve(part)) for part in parts)
        if key == "Fn::ImportValue":
            return f"ImportValue:{self.resolve(arg)}"
        if key == "Fn::Base64":
            return self.resolve(arg)
        raise TemplateError(f"{key} is not supported by the local emulator")

    def _sub(self, arg: Any) -> str:
        text, variables = (arg, {}) if isinstance(arg, str) else (arg[0], self.resolve(arg[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return str(variables[name])
            if "." in name and name.split(".", 1)[0] in self._resources:
                return name  # ${Resource.Attr}: only known once deployed
            value = self.ref(name)
            return "" if value is NO_VALUE else ",".join(value) if isinstance(value, list) else str(value)

        return _SUB_VARIABLE.sub(replace, text)
