"""Every rule, registered by name, in the one order they run; and the order findings are shown.

Order matters twice. Rules run in :data:`RULES` order, then the :data:`SUMMARY_RULES` in
theirs, each summary rule receiving every finding made before it (the generic code and MDM
error findings leave out what a specific finding already explains). The first error-level
finding for a step gives that step its hint, so rules naming a specific cause come before
general ones.

Adding a rule: write it in the module of its subject, give it an entry in
``resources/knowledge/rules.toml`` (texts, severity, confidence, source, parameters) and list
it here; ``tests/core/esp/rules`` fire it in a scenario.
"""

from __future__ import annotations

from collections.abc import Sequence

from core.esp.knowledge import Knowledge, KnowledgeError
from core.esp.model import SEVERITY_ORDER
from core.esp.rules import apps, certs_network, device_prep, flow, join, mdm, preparation, profile
from core.esp.rules.base import INPUTS, Context, Found, Rule, StepState, SummaryRule
from core.esp.rules.codes import code_signature, known_errors

#: Rules in priority order.
RULES: tuple[Rule, ...] = (
    # before the ESP: profile and registration
    profile.profile_problem,
    profile.profile_download_failed,
    profile.profile_not_downloaded_offline,
    profile.profile_empty,
    code_signature("multiple_mdm"),
    # Device preparation: TPM, join, enrollment, providers
    preparation.tpm_attestation,
    flow.tpm_not_ready,
    code_signature("tpm_max_retry"),
    code_signature("tpm_firmware_vulnerable"),
    code_signature("tpm_amd_ftpm"),
    code_signature("tpm_attestation_join"),
    join.tenant_mismatch,
    code_signature("entra_join_failed"),
    code_signature("entra_device_missing"),
    join.odj_blob_not_received,
    code_signature("mdm_no_license"),
    code_signature("mdm_device_cap"),
    code_signature("mdm_enrollment_restriction"),
    code_signature("sd_device_reused"),
    code_signature("mdm_unsupported_edition"),
    code_signature("mdm_upn_suffix"),
    code_signature("mdm_not_configured"),
    profile.enrollment_tenant_mismatch,
    preparation.ime_agent_failed,
    preparation.configmgr_client_failed,
    preparation.provider_stall,
    preparation.tracking_not_created,
    preparation.configmgr_without_sidecar,
    # Device setup / Account setup items
    apps.win32_status_rule("win32_download_failed"),
    apps.win32_status_rule("win32_dependency_failed"),
    apps.win32_status_rule("win32_requirements_not_met"),
    code_signature("win32_not_detected"),
    apps.msi_download_failed,
    apps.cm_task_sequence_failed,
    apps.office_failed,
    apps.office_still_installing,
    apps.store_app_failed,
    apps.company_portal_device_phase,
    certs_network.cert_not_applied,
    certs_network.coded_event_rule("scep_server_unreachable"),
    certs_network.coded_event_rule("trusted_root_missing"),
    certs_network.pfx_cert_failed,
    certs_network.network_not_applied,
    certs_network.vpn_profile_failed,
    join.hybrid_join_wait,
    join.dc_unreachable,
    join.mfa_interrupted,
    join.whfb_prerequisites_failed,
    apps.download_cannot_finish,
    # after the rules naming a specific cause in the timed-out category
    flow.esp_timeout,
    flow.device_phase_timeout,
    apps.lob_win32_mixed,
    apps.store_app_blocked,
    apps.app_reboot_pending,
    flow.reboot_coalescing_failed,
    flow.reboot_second_signin,
    flow.continue_anyway,
    flow.preprov_failed,
    flow.preprov_not_resealed,
    flow.preprov_user_targeted_only,
    flow.self_deploying_user_targeted,
    # Windows Autopilot device preparation
    device_prep.device_prep_failed,
    device_prep.device_prep_app_failed,
    device_prep.device_prep_script_failed,
    device_prep.device_prep_timeout,
    device_prep.device_prep_classic_profile,
    # about the capture
    flow.skipped_phase,
    profile.not_autopilot,
    flow.record_problem,
)

#: Rules that read the findings made before them, in the order they run.
SUMMARY_RULES: tuple[SummaryRule, ...] = (
    apps.win32_failed,
    apps.msi_failed,
    known_errors,
    mdm.mdm_errors,
)


def units() -> list[Rule | SummaryRule]:
    """Every registered rule, in the order they run."""
    return [*RULES, *SUMMARY_RULES]


def emitted_ids() -> list[str]:
    return [i for unit in units() for i in unit.emits]


def check(knowledge: Knowledge) -> None:
    """Rules and ``rules.toml`` agree: every emitted id has an entry and every entry an
    emitter, every parameter in the file is read by its rule, ``reads`` names real inputs."""
    ids = emitted_ids()
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise KnowledgeError(f"rules emitted by more than one registered rule: {duplicates}")
    missing = sorted(set(ids) - set(knowledge.rules))
    if missing:
        raise KnowledgeError(f"rules.toml has no entry for {', '.join(missing)}")
    orphans = sorted(set(knowledge.rules) - set(ids))
    if orphans:
        raise KnowledgeError(f"rules.toml entries no registered rule emits: {', '.join(orphans)}")
    for unit in units():
        if not unit.reads <= INPUTS:
            raise KnowledgeError(f"{unit.name} reads unknown inputs {sorted(unit.reads - INPUTS)}")
        for rule_id in unit.emits:
            unused = sorted(set(knowledge.rules[rule_id].params) - set(unit.params))
            if unused:
                raise KnowledgeError(f"rules.toml [rule.{rule_id}]: unused key(s) {unused}")


_CHECKED: set[int] = set()


def _check_once(knowledge: Knowledge) -> None:
    # the knowledge is loaded once per process; check it against the registry once too
    if id(knowledge) not in _CHECKED:
        check(knowledge)
        _CHECKED.add(id(knowledge))


_SEVERITY_RANK = SEVERITY_ORDER  # the one order (core.esp.model)
#: findings naming the failed item (which app) before the code's general meaning
_NAMED_ITEM = frozenset(
    {
        "win32_failed",
        "msi_failed",
        "office_failed",
        "cm_task_sequence_failed",
        "store_app_failed",
        "win32_download_failed",
        "win32_dependency_failed",
    }
)


def order_findings(found: Sequence[Found], steps: dict[str, StepState]) -> list[Found]:
    """The finding that explains the first failed step first, then the other failed steps',
    then by severity; rule order breaks ties (sorting is stable)."""
    failed = [s.definition.id for s in steps.values() if s.status == "failed"]
    first = next(
        (sid for sid in failed if steps[sid].state != "failedFromPreviousSubcategory"),
        failed[0] if failed else None,
    )

    def rank(item: Found) -> tuple[int, int, int]:
        finding = item.finding
        severity = _SEVERITY_RANK[finding.severity]
        named = 0 if finding.id in _NAMED_ITEM else 1
        if finding.step is not None and finding.step == first and severity < 2:
            return (0, severity, named)
        if finding.step in failed and severity < 2:
            return (1, severity, named)
        return (2, severity, 1)

    return sorted(found, key=rank)


def run_rules(ctx: Context) -> list[Found]:
    """Every registered rule over ``ctx``, findings in display order."""
    _check_once(ctx.knowledge)
    found: list[Found] = []
    for unit in RULES:
        found.extend(unit.check(ctx))
    for summary in SUMMARY_RULES:
        found.extend(summary.check(ctx, tuple(found)))
    return order_findings(found, ctx.steps)
