"""English IT runbooks: services whose names share parts (billing-api, billing-worker, ...)."""

from __future__ import annotations

import random

from bench.retrieval_quality.common import Draft, Q, pair, sentences, unique

DOMAIN = "runbooks"

NOUNS = ["billing", "ledger", "invoice", "search", "catalog", "checkout", "payments", "notify",
         "inventory", "auth", "reporting", "shipping", "pricing", "media", "session", "loyalty"]  # fmt: skip
ROLES = ["api", "worker", "sync", "gateway", "indexer", "scheduler"]
TEAMS = ["Platform", "Payments", "Storefront", "Data", "Identity", "Fulfilment", "Growth"]
STORES = ["PostgreSQL", "Redis", "Elasticsearch", "Kafka", "S3"]
SYMPTOMS = [("the process is running but health checks fail", "it's up but not answering"),
            ("memory usage grows until the container is killed", "it keeps running out of RAM"),
            ("requests hang after a database failover", "it freezes after the DB switches over"),
            ("the consumer stops committing offsets", "it stops making progress on the queue")]  # fmt: skip
FLAGS = ["use_v2", "batch_size", "async_writes", "cache_ttl", "max_inflight", "read_replica"]
CLEANUPS = [("journalctl --vacuum-size=500M", "trim the systemd journal"),
            ("delete rotated logs older than 7 days", "remove old log files"),
            ("prune unused container images", "clear out old Docker images"),
            ("truncate the temporary export directory", "empty the temp export folder")]  # fmt: skip

FILLER = [
    "Announce the action in the #incidents channel before you start.",
    "If the procedure does not resolve the issue within 15 minutes, escalate.",
    "All commands are run from the bastion host with your personal SSH key.",
    "Record every step and timestamp in the incident document.",
    "Do not restart more than one instance at a time during business hours.",
]


def services(rng: random.Random, count: int) -> list[str]:
    names: set[str] = set()
    out: list[str] = []
    while len(out) < count:
        noun = rng.choice(NOUNS)
        for role in rng.sample(ROLES, rng.choice([1, 2, 2, 3])):
            name = f"{noun}-{role}"
            if name not in names and len(out) < count:
                names.add(name)
                out.append(name)
    return out


def _camel(service: str) -> str:
    return "".join(part.capitalize() for part in service.split("-"))


def _restart(rng: random.Random, s: str, used: dict[str, set[str]]) -> Draft:
    port = unique(rng, lambda r: str(r.randrange(8000, 9999)), used["port"])
    symptom, symptom_q = pair(rng, SYMPTOMS)
    wait = rng.choice([30, 45, 60, 90, 120])
    texts = [
        f"Restarting {s}: use this when {symptom}. Run `sudo systemctl restart {s}.service` on "
        f"one node at a time, wait {wait} seconds, then check `curl -s localhost:{port}/healthz` "
        f"returns ok before moving to the next node.",
        f"Runbook — {s} restart. Symptom: {symptom}. Drain the node from the load balancer, "
        f"restart the unit {s}.service, and confirm the health endpoint on port {port} answers "
        f"within {wait} s.",
    ]
    facts = {"port": port}
    qs = [
        Q("lexical", f"How do I restart {s}?", ("entity",)),
        Q("paraphrase", f"{s} is {symptom_q}; how do I bring it back?", ("entity",)),
        Q("exact", f"Which service has its health check on port {port}?", ("port",)),
        Q(
            "paraphrase",
            f"How long should I wait after bouncing {s} before checking it?",
            ("entity",),
        ),  # fmt: skip
    ]
    return _draft(rng, s, "restart", "restart procedure", texts, qs, facts)


def _alert(rng: random.Random, s: str, used: dict[str, set[str]]) -> Draft:
    metric = rng.choice(["QueueLag", "ErrorRate", "LatencyP99", "DiskPressure", "ReplicaLag"])
    alert = f"{_camel(s)}{metric}"
    threshold = {
        "QueueLag": f"{rng.randrange(500, 20000, 500)} messages",
        "ErrorRate": f"{rng.randrange(1, 10)}% of requests",
        "LatencyP99": f"{rng.randrange(300, 5000, 100)} ms",
        "DiskPressure": f"{rng.randrange(75, 95)}% disk usage",
        "ReplicaLag": f"{rng.randrange(10, 600, 10)} seconds",
    }[metric]
    minutes = rng.choice([5, 10, 15, 20])
    store = rng.choice(STORES)
    texts = [
        f"Alert {alert} fires when {s} exceeds {threshold} for {minutes} minutes. First check "
        f"whether {store} is healthy, since most incidents start there. Then look at recent "
        f"deploys of {s}.",
        f"Handling {alert}: this alert means {s} has been above {threshold} for over {minutes} "
        f"minutes. Check the {store} dashboard first; if it is green, roll back the last deploy.",
    ]
    facts = {"alert": alert}
    qs = [
        Q("exact", f"What should I do when {alert} fires?", ("alert",)),
        Q("exact", f"What is the threshold for {alert}?", ("alert",)),
        Q(
            "paraphrase",
            f"{s} is paging me about {metric_words(metric)}; where do I look first?",
            ("entity", "alert"),
        ),  # fmt: skip
        Q("lexical", f"When does the {s} alert fire?", ("entity",)),
    ]
    return _draft(rng, s, "alert", f"alert {alert}", texts, qs, facts)


def metric_words(metric: str) -> str:
    return {
        "QueueLag": "a growing backlog",
        "ErrorRate": "too many failed requests",
        "LatencyP99": "slow responses",
        "DiskPressure": "the disk filling up",
        "ReplicaLag": "the replica falling behind",
    }[metric]


def _backup(rng: random.Random, s: str, used: dict[str, set[str]]) -> Draft:
    hour = rng.randrange(0, 24)
    keep = rng.choice([7, 14, 30, 35, 60, 90, 365])
    bucket = unique(
        rng, lambda r: f"s3://bk-{s.split('-')[0]}-{r.randrange(100, 999)}", used["bucket"]
    )
    store = rng.choice(STORES[:3])
    texts = [
        f"Backups for {s}: the {store} data is dumped every day at {hour:02d}:00 UTC to "
        f"{bucket}. Snapshots are kept for {keep} days. Test a restore into staging once a month.",
        f"{s} backup policy. A nightly job at {hour:02d}:00 UTC writes a {store} snapshot to "
        f"{bucket}; retention is {keep} days. Restores are rehearsed monthly.",
    ]
    facts = {"bucket": bucket}
    qs = [
        Q("paraphrase", f"How long do we keep old copies of the {s} data?", ("entity",)),
        Q("lexical", f"When does the {s} backup run?", ("entity",)),
        Q("exact", f"Which service backs up to {bucket}?", ("bucket",)),
        Q("paraphrase", f"Where are the {s} snapshots stored?", ("entity",)),
    ]
    return _draft(rng, s, "backup", "backups", texts, qs, facts)


def _escalation(rng: random.Random, s: str, used: dict[str, set[str]]) -> Draft:
    team = rng.choice(TEAMS)
    sla = rng.choice([15, 30, 60, 120])
    rotation = unique(
        rng, lambda r: f"{team.lower()}-oncall-{r.randrange(1, 99):02d}", used["rotation"]
    )
    texts = [
        f"Escalation for {s}: the service is owned by the {team} team. Page the {rotation} "
        f"rotation; the on-call engineer must acknowledge within {sla} minutes. If nobody "
        f"responds, call the engineering manager.",
        f"Who to call about {s}: {team} team, pager rotation {rotation}. Acknowledgement SLA is "
        f"{sla} minutes; beyond that, escalate to the manager on duty.",
    ]
    facts = {"rotation": rotation}
    qs = [
        Q("paraphrase", f"Which team do I wake up when {s} breaks at night?", ("entity",)),
        Q("lexical", f"Who owns {s}?", ("entity",)),
        Q("exact", f"Which service is covered by the {rotation} rotation?", ("rotation",)),
        Q("paraphrase", f"How quickly must the on-call person for {s} respond?", ("entity",)),
    ]
    return _draft(rng, s, "escalation", "escalation", texts, qs, facts)


def _rollback(rng: random.Random, s: str, used: dict[str, set[str]]) -> Draft:
    flag = unique(
        rng,
        lambda r: f"{s.replace('-', '_')}.{r.choice(FLAGS)}",
        used["flag"],
    )
    tool = rng.choice(["Argo CD", "Spinnaker", "Helm", "the deploy bot"])
    minutes = rng.choice([5, 10, 15, 30])
    texts = [
        f"Rolling back {s}: in {tool}, select the previous release and sync. If the bad release "
        f"changed the config key {flag}, revert it as well. A rollback takes about {minutes} "
        f"minutes.",
        f"{s} rollback procedure. Redeploy the last known good version with {tool} "
        f"(about {minutes} minutes) and reset {flag} to its previous value.",
    ]
    facts = {"flag": flag}
    qs = [
        Q("paraphrase", f"How do I undo a bad deploy of {s}?", ("entity",)),
        Q("exact", f"Which rollback also needs {flag} reset?", ("flag",)),
        Q("lexical", f"Which tool is used to roll back {s}?", ("entity",)),
        Q(
            "paraphrase",
            f"How long does it take to revert {s} to the previous version?",
            ("entity",),
        ),  # fmt: skip
    ]
    return _draft(rng, s, "rollback", "rollback", texts, qs, facts)


def _disk(rng: random.Random, s: str, used: dict[str, set[str]]) -> Draft:
    mount = f"/var/lib/{s.split('-')[0]}/{rng.choice(['data', 'spool', 'tmp', 'logs'])}"
    pct = rng.randrange(70, 96)
    cleanup, cleanup_q = pair(rng, CLEANUPS)
    texts = [
        f"Disk full on {s} hosts: the volume {mount} triggers a warning at {pct}%. To free space, "
        f"{cleanup}. Never delete files under the live data directory by hand.",
        f"{s}: when {mount} passes {pct}% usage, {cleanup}. If that is not enough, ask for a "
        f"larger volume.",
    ]
    facts = {"mount": mount, "pct": str(pct), "cleanup": cleanup}
    qs = [
        Q(
            "paraphrase", f"The {s} server is running out of space; what can I remove?", ("entity",)
        ),  # fmt: skip
        Q("lexical", f"At what disk usage does {s} warn?", ("entity",)),
        Q("exact", f"What should I do when {mount} reaches {pct}%?", ("mount", "pct")),
        Q(
            "descriptive",
            f"On which service should I {cleanup_q} when {mount} fills up?",
            ("mount", "cleanup"),
        ),  # fmt: skip
    ]
    return _draft(rng, s, "disk", "disk space", texts, qs, facts)


def _draft(
    rng: random.Random,
    service: str,
    aspect: str,
    topic: str,
    texts: list[str],
    qs: list[Q],
    facts: dict[str, str],
) -> Draft:
    text = sentences(rng, [rng.choice(texts)], FILLER, 0.4)
    return Draft(DOMAIN, aspect, f"{service}: {topic}", text, {"entity": service, **facts}, qs)


GENERIC = [
    "General restart guidance: restart services one node at a time and watch the error rate "
    "dashboard between nodes.",
    "Backups are only useful if restores work. Every team rehearses a restore at least once a "
    "quarter.",
    "On-call etiquette: acknowledge a page before you start investigating so that it does not "
    "escalate.",
    "Disk usage alerts usually mean logs are not being rotated. Check logrotate first.",
    "Rollbacks are preferred over hotfixes during an incident.",
]


def build(rng: random.Random, count: int = 66) -> list[Draft]:
    used: dict[str, set[str]] = {"port": set(), "bucket": set(), "rotation": set(), "flag": set()}
    aspects = (_restart, _alert, _backup, _escalation, _rollback, _disk)
    drafts = [aspect(rng, s, used) for s in services(rng, count) for aspect in aspects]
    drafts += [Draft(DOMAIN, "generic", "Operations notes", text) for text in GENERIC]
    return drafts
