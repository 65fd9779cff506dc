"""Intrinsic functions resolved as sam local resolves them."""

from __future__ import annotations

import pytest

from harness.emulator import TemplateError
from harness.emulator.intrinsics import Resolver


@pytest.fixture
def resolver():
    return Resolver(
        parameters={"Budget": "25", "Name": "app", "Subnets": ["a", "b"]},
        pseudo={"AWS::Region": "eu-west-1", "AWS::AccountId": "123456789012"},
        conditions={"Big": {"Fn::Equals": [{"Ref": "Budget"}, "400"]}, "Small": {"Fn::Not": [{"Condition": "Big"}]}},
        mappings={"Split": {"25": {"Items": 16}}},
        resources={"Proxy": {"Type": "AWS::RDS::DBProxy"}},
    )


def test_sub_with_parameters_pseudo_parameters_attributes_literals_and_its_own_variables(resolver):
    text = "${Name}@${Proxy.Endpoint}:${AWS::Region}/${!Literal}/${Id}"
    resolved = resolver.resolve({"Fn::Sub": [text, {"Id": {"Ref": "Budget"}}]})

    assert resolved == "app@Proxy.Endpoint:eu-west-1/${Literal}/25"


def test_find_in_map_select_split_join_and_conditions(resolver):
    assert resolver.resolve({"Fn::FindInMap": ["Split", {"Ref": "Budget"}, "Items"]}) == 16
    assert resolver.resolve({"Fn::Select": [1, {"Fn::Split": [",", "x,y,z"]}]}) == "y"
    assert resolver.resolve({"Fn::Join": ["-", {"Ref": "Subnets"}]}) == "a-b"
    assert resolver.resolve({"Fn::If": ["Small", "small", "big"]}) == "small"
    assert resolver.resolve({"A": {"Fn::If": ["Big", 1, {"Ref": "AWS::NoValue"}]}, "B": 2}) == {"B": 2}


def test_unknown_names_are_errors_that_say_which(resolver):
    with pytest.raises(TemplateError, match="'Nope'"):
        resolver.resolve({"Ref": "Nope"})
    with pytest.raises(TemplateError, match="condition 'Missing'"):
        resolver.resolve({"Fn::If": ["Missing", 1, 2]})
    with pytest.raises(TemplateError, match="FindInMap"):
        resolver.resolve({"Fn::FindInMap": ["Split", "999", "Items"]})
