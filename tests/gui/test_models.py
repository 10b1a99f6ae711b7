"""Every model passes qtmodeltester, and shows what the report holds."""

from __future__ import annotations

from datetime import timedelta, timezone

from PySide6.QtCore import QModelIndex, Qt

from core.registry.model import RegValue
from gui.details import FieldsModel, LogLinesModel, SnapshotModel
from gui.findings import EvidenceModel, FindingsModel
from gui.models import (
    OBJECT_ROLE,
    SORT_ROLE,
    EspTreeModel,
    EventsModel,
    FilesModel,
    HistoryModel,
    ItemsModel,
    LogRefModel,
    ProblemsModel,
    RawRegistryModel,
    RegistryRefModel,
    TimelineModel,
    ValuesModel,
    format_data,
)
from gui.prepare import prepare
from gui.proxies import FilterProxy, filter_timeline
from gui.timefmt import TimeDisplay
from tests.gui.builders import CERT_STEP, IME, evidence, failed_report


def test_esp_tree_model(qtmodeltester):
    model = EspTreeModel()
    report = failed_report()
    model.set_report(report)
    qtmodeltester.check(model)
    assert model.rowCount() == 3
    assert [model.rowCount(model.index(i, 0)) for i in range(3)] == [4, 4, 5]
    index = model.step_index(CERT_STEP)
    assert index.data() == "Certificates"
    assert index.siblingAtColumn(1).data() == "Failed: 0x87D1041C"
    assert index.data(OBJECT_ROLE) is report.step(CERT_STEP)
    assert index.parent().data() == "Account setup"
    assert not model.step_index("nope").isValid()


def test_table_models(qtmodeltester):
    times = TimeDisplay()
    report = failed_report()
    step = report.step(CERT_STEP)
    assert step is not None
    loaded = prepare(evidence(), report)
    cases = [
        (ItemsModel(times), step.items),
        (HistoryModel(times), step.items[0].history),
        (EventsModel(times), step.events),
        (FieldsModel(times), list(loaded.events[step.events[1].origin].data.items())),
        (TimelineModel(times), loaded.timeline),
        (ProblemsModel(times), loaded.problems),
        (FilesModel(times), [("a.evtx", 1), ("b.reg", 0)]),
        (ValuesModel(times), [RegValue("", "REG_SZ", "x", "o"),
                              RegValue("Blob", "REG_BINARY", b"\x01", "o")]),
        (LogRefModel(times), step.logs),
        (LogLinesModel(times), list(loaded.log_files[IME])),
        (SnapshotModel(times), [(v.name, v.type, v.data, v.display, "o")
                                for v in step.registry[0].values]),
        (FindingsModel(times), [(f, f.step or "") for f in report.findings]),
        (EvidenceModel(times), [(e, "event") for e in report.findings[0].evidence]),
    ]
    assert step.logs
    assert loaded.log_files[IME]
    for model, rows in cases:
        model.set_rows(rows)
        qtmodeltester.check(model)
        assert model.rowCount() == len(rows)
        proxy = FilterProxy()
        proxy.setSourceModel(model)
        qtmodeltester.check(proxy)


def test_registry_ref_model(qtmodeltester):
    model = RegistryRefModel(TimeDisplay())
    step = failed_report().step(CERT_STEP)
    assert step is not None
    model.set_refs(step.registry)
    qtmodeltester.check(model)
    assert model.rowCount() == 2
    key = model.index(1, 0)
    assert model.rowCount(key) == 3
    assert model.index(1, model.LAST_WRITE).data() == "(not recorded)"
    assert model.index(0, model.DATA, key).data().startswith('{"categoryState"')
    assert model.index(1, model.DATA, key).data() == "01 02 fe"
    proxy = FilterProxy(recursive=True)
    proxy.setSourceModel(model)
    proxy.set_text("Names")
    assert proxy.rowCount() == 1
    assert proxy.rowCount(proxy.index(0, 0)) == 1
    qtmodeltester.check(proxy)


def test_raw_registry_model_is_lazy_and_finds_paths(qtmodeltester):
    model = RawRegistryModel(TimeDisplay())
    registry = evidence().registry
    model.set_roots(registry.roots())
    qtmodeltester.check(model)
    found = model.find(r"HKEY_LOCAL_MACHINE\software\microsoft\windows\autopilot")
    assert found.isValid()
    assert model.key(found).path.endswith(r"Windows\Autopilot")
    assert not model.find(r"HKLM\Nope").isValid()
    assert model.data(QModelIndex()) is None


def test_time_columns_follow_the_zone(qtbot):
    times = TimeDisplay()
    model = EventsModel(times)
    model.set_rows(failed_report().step(CERT_STEP).events)  # type: ignore[union-attr]
    assert model.headerData(0, Qt.Orientation.Horizontal) == "Time (UTC)"
    assert model.index(0, 0).data() == "2024-05-06 09:44:00.000"
    with qtbot.waitSignal(model.headerDataChanged):
        times.set_device_zone(timezone(timedelta(hours=2)), "Test Standard Time")
        times.set_utc(False)
    assert "device local, Test Standard Time" in model.headerData(0, Qt.Orientation.Horizontal)
    assert model.index(0, 0).data() == "2024-05-06 11:44:00.000"
    assert isinstance(model.index(0, 0).data(SORT_ROLE), float)


def test_timeline_filter():
    rows = prepare(evidence(), failed_report()).timeline
    assert len(filter_timeline(rows)) == 7
    assert len(filter_timeline(rows, step=CERT_STEP)) == 3
    assert len(filter_timeline(rows, step=CERT_STEP, source="event")) == 2
    assert len(filter_timeline(rows, level="error")) == 1
    assert len(filter_timeline(rows, step="")) == 1  # the one entry tied to no step
    assert len(filter_timeline(rows, text="company PORTAL")) == 1
    assert len(filter_timeline(rows, text="account setup › certificates")) == 3


def test_format_data():
    assert format_data(None) == "(no data)"
    assert format_data(0x87D1041C) == f"0x87D1041C ({0x87D1041C})"
    assert format_data(["a", "b"]) == "a ; b"
    assert format_data(b"\x00\xff") == "00 ff"
    assert format_data("x" * 300).endswith(" …")


def test_short_status_text_drops_the_repeated_title() -> None:
    from gui.models import short_status_text

    title = "Joining your organization's network"
    mangled = "Joining your organization?s network (Completed)"
    assert short_status_text(title, "succeeded", mangled) == "Completed"
    assert short_status_text("Apps", "failed", "Apps (0x87d1041c)") == "Failed: 0x87D1041C"
    assert short_status_text("Apps", "failed", "Failed: 0x87D1041C") == "Failed: 0x87D1041C"
    assert short_status_text("Certificates", "unknown", None) == "Unknown"


def test_tables_sort_themselves_on_prepared_keys(qtmodeltester):
    """A table sorts on the loading thread's keys, the way Qt's proxy sorted it (missing
    times first, stable, both orders), and keeps the selection on its row."""
    from core.esp.model import LogRef
    from gui.models import table_keys
    from tests.gui.builders import t

    times = TimeDisplay()
    model = LogRefModel(times)
    rows = [LogRef(t(3), "info", "B", "1", "third", "f:3"),
            LogRef(None, "error", "A", "1", "undated", "f:9"),
            LogRef(t(1), "warning", "C", "1", "first", "f:1"),
            LogRef(t(3), "info", "A", "1", "third too", "f:4")]
    proxy = FilterProxy()
    proxy.setSourceModel(model)
    model.set_rows(rows, table_keys(LogRefModel.columns, rows))
    selected = proxy.index(2, 3)  # "first"
    from PySide6.QtCore import QPersistentModelIndex

    kept = QPersistentModelIndex(selected)
    proxy.sort(0, Qt.SortOrder.AscendingOrder)
    assert [proxy.index(r, 3).data() for r in range(4)] == ["undated", "first", "third",
                                                           "third too"]
    assert kept.data() == "first"
    proxy.sort(2, Qt.SortOrder.DescendingOrder)
    assert [proxy.index(r, 2).data() for r in range(4)] == ["C", "B", "A", "A"]
    assert proxy.index(2, 3).data() == "undated"  # equal keys keep their order
    model.set_rows(list(reversed(rows)))  # new rows keep the sort (keys built on demand)
    assert [proxy.index(r, 2).data() for r in range(4)] == ["C", "B", "A", "A"]
    assert proxy.index(2, 3).data() == "third too"
    qtmodeltester.check(proxy)
