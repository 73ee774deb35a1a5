"""The registry: explicit, read-only, and refusing a `type:` listed twice or settings that declare another type."""

from __future__ import annotations

from typing import Literal

import pytest

from collectors.base import CollectorSettings
from collectors.http_probe import HttpProbe, HttpSettings
from collectors.json_api import JsonApiCollector
from collectors.registry import COLLECTORS, RegistryError, collector_class, declared_type, registry
from collectors.system import SystemCollector


class OtherHttpSettings(HttpSettings):
    """A second collector whose settings also claim `type: http`."""


class OtherHttp(HttpProbe):
    settings_model = OtherHttpSettings


class TwoTypesSettings(CollectorSettings):
    type: Literal["sms", "voice"]


class TwoTypes(SystemCollector):
    settings_model = TwoTypesSettings  # type: ignore[assignment]


def test_the_shipped_registry_maps_each_type_to_the_class_whose_settings_declare_it():
    assert sorted(COLLECTORS) == ["http", "json", "postgres", "prometheus", "promql", "sql", "system"]
    for kind, cls in COLLECTORS.items():
        assert declared_type(cls) == kind
        assert collector_class(kind) is cls


def test_the_registry_cannot_be_changed_after_it_is_built():
    with pytest.raises(TypeError):
        COLLECTORS["json2"] = JsonApiCollector  # type: ignore[index]


def test_a_type_registered_twice_is_refused():
    with pytest.raises(RegistryError) as caught:
        registry(("http", HttpProbe), ("system", SystemCollector), ("http", OtherHttp))
    assert str(caught.value) == (
        "collector type 'http' registered twice (HttpProbe and OtherHttp): "
        "a config `type:` must name exactly one collector"
    )


def test_a_class_listed_under_another_type_than_its_settings_declare_is_refused():
    with pytest.raises(RegistryError) as caught:
        registry(("http", HttpProbe), ("jsonapi", JsonApiCollector))
    assert str(caught.value) == (
        "collector type 'jsonapi': JsonApiCollector.settings_model JsonApiSettings declares "
        "type: Literal['json'], expected type: Literal['jsonapi']"
    )


@pytest.mark.parametrize(
    ("cls", "declared"),
    [
        (TwoTypes, "type: Literal['sms', 'voice']"),
        (type("Untyped", (SystemCollector,), {"settings_model": CollectorSettings}), "type: str"),
    ],
)
def test_settings_that_declare_no_single_type_literal_are_refused(cls, declared):
    with pytest.raises(RegistryError) as caught:
        registry(("sms", cls))
    assert declared in str(caught.value)
    assert "expected type: Literal['sms']" in str(caught.value)


def test_something_that_is_not_a_collector_is_refused():
    with pytest.raises(RegistryError, match="'http': <class 'collectors.http_probe.HttpSettings'> is not a Collector"):
        registry(("http", HttpSettings))  # type: ignore[arg-type]


def test_an_unknown_type_names_the_known_ones():
    with pytest.raises(KeyError, match="unknown collector type 'snmp' \\(known: http, json, postgres, prometheus"):
        collector_class("snmp")
