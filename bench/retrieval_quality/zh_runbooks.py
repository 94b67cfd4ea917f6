"""Chinese IT runbooks (运维手册): services named in English, procedures written in Chinese."""

from __future__ import annotations

import random

from bench.retrieval_quality.common import Draft, Q, pair, sentences, unique

DOMAIN = "runbooks"

NOUNS = ["order", "user", "pay", "stock", "search", "coupon", "message", "report", "logistics",
         "member", "cart", "review"]  # fmt: skip
ROLES = ["api", "worker", "sync", "gateway", "job"]
TEAMS = ["基础平台组", "支付组", "交易组", "数据组", "账号组", "履约组"]
STORES = ["MySQL", "Redis", "Elasticsearch", "Kafka"]
FLAGS = ["use_v2", "batch_size", "async_write", "cache_ttl", "max_conn", "read_replica"]
SYMPTOMS = [("进程存活但健康检查失败", "进程还在但不响应了"),
            ("内存持续上涨直到容器被杀", "内存老是爆掉"),
            ("数据库主从切换后请求卡住", "数据库切换以后就卡死了"),
            ("消费者停止提交位点", "队列消费不动了")]  # fmt: skip
CLEANUPS = [("执行 journalctl --vacuum-size=500M", "清理系统日志"),
            ("删除7天前的归档日志", "删掉旧日志文件"),
            ("清理未使用的容器镜像", "删除没用的 Docker 镜像"),
            ("清空临时导出目录", "清掉导出用的临时文件夹")]  # fmt: skip
METRIC_WORDS = {"QueueLag": "消息积压", "ErrorRate": "请求失败太多", "LatencyP99": "响应太慢",
                "DiskPressure": "磁盘快满了", "ReplicaLag": "从库跟不上"}  # fmt: skip
FILLER = [
    "操作前请在 #incidents 频道中告知。",
    "若15分钟内未能解决，请立即升级处理。",
    "所有命令均需通过跳板机、使用个人 SSH 密钥执行。",
    "请在故障记录文档中记下每一步操作及时间。",
    "工作时间内请勿同时重启多个实例。",
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


def _restart(rng: random.Random, s: str, used: dict[str, set[str]]) -> Draft:
    port = unique(rng, lambda r: str(r.randrange(8000, 9999)), used["port"])
    symptom, symptom_q = pair(rng, SYMPTOMS)
    wait = rng.choice([30, 60, 90, 120])
    texts = [
        f"{s} 重启步骤：适用于{symptom}的情况。每次只在一台节点上执行 "
        f"`sudo systemctl restart {s}.service`，等待{wait}秒后用 "
        f"`curl -s localhost:{port}/healthz` 确认返回 ok，再处理下一台。",
        f"运维手册：重启 {s}。现象：{symptom}。先将节点从负载均衡摘除，重启 {s}.service，"
        f"确认{port}端口的健康检查在{wait}秒内恢复。",
    ]
    facts = {"port": port}
    qs = [
        Q("lexical", f"怎么重启 {s}？", ("entity",)),
        Q("paraphrase", f"{s} {symptom_q}，怎么让它恢复正常？", ("entity",)),
        Q("exact", f"健康检查端口是{port}的是哪个服务？", ("port",)),
        Q("paraphrase", f"{s} 重启完要等多久再检查？", ("entity",)),
    ]
    return _draft(rng, s, "restart", "重启步骤", texts, qs, facts)


def _alert(rng: random.Random, s: str, used: dict[str, set[str]]) -> Draft:
    metric = rng.choice(list(METRIC_WORDS))
    alert = "".join(part.capitalize() for part in s.split("-")) + metric
    threshold = {
        "QueueLag": f"{rng.randrange(500, 20000, 500)}条消息",
        "ErrorRate": f"{rng.randrange(1, 10)}%的请求失败",
        "LatencyP99": f"P99延迟{rng.randrange(300, 5000, 100)}毫秒",
        "DiskPressure": f"磁盘使用率{rng.randrange(75, 95)}%",
        "ReplicaLag": f"复制延迟{rng.randrange(10, 600, 10)}秒",
    }[metric]
    minutes = rng.choice([5, 10, 15])
    store = rng.choice(STORES)
    texts = [
        f"告警 {alert}：{s} 持续{minutes}分钟超过{threshold}时触发。先检查{store}是否正常，"
        f"多数故障由此引起；再查看 {s} 最近的发布记录。",
        f"处理 {alert}：说明 {s} 已连续{minutes}分钟以上超过{threshold}。先看{store}监控面板，"
        f"如一切正常，则回滚最近一次发布。",
    ]
    facts = {"alert": alert}
    qs = [
        Q("exact", f"{alert} 告警触发了该怎么处理？", ("alert",)),
        Q("exact", f"{alert} 的阈值是多少？", ("alert",)),
        Q("paraphrase", f"{s} 一直报{METRIC_WORDS[metric]}，先查哪里？", ("entity", "alert")),
        Q("lexical", f"{s} 的告警什么时候触发？", ("entity",)),
    ]
    return _draft(rng, s, "alert", f"告警 {alert}", texts, qs, facts)


def _backup(rng: random.Random, s: str, used: dict[str, set[str]]) -> Draft:
    hour = rng.randrange(0, 24)
    keep = rng.choice([7, 14, 30, 60, 90, 180])
    bucket = unique(
        rng, lambda r: f"oss://bk-{s.split('-')[0]}-{r.randrange(100, 999)}", used["bucket"]
    )
    store = rng.choice(STORES[:3])
    texts = [
        f"{s} 备份策略：每天北京时间{hour}点将{store}数据导出到 {bucket}，快照保留{keep}天。"
        f"每月在预发环境演练一次恢复。",
        f"{s} 的备份：夜间任务于{hour}:00执行，把{store}快照写入 {bucket}，保留期{keep}天；"
        f"恢复流程每月演练。",
    ]
    facts = {"bucket": bucket}
    qs = [
        Q("paraphrase", f"{s} 的旧数据副本留多久？", ("entity",)),
        Q("lexical", f"{s} 的备份什么时候执行？", ("entity",)),
        Q("exact", f"哪个服务备份到 {bucket}？", ("bucket",)),
        Q("paraphrase", f"{s} 的快照存在哪里？", ("entity",)),
    ]
    return _draft(rng, s, "backup", "备份策略", texts, qs, facts)


def _escalation(rng: random.Random, s: str, used: dict[str, set[str]]) -> Draft:
    team = rng.choice(TEAMS)
    sla = rng.choice([15, 30, 60])
    rotation = unique(rng, lambda r: f"oncall-{r.randrange(1, 99):02d}", used["rotation"])
    texts = [
        f"{s} 升级流程：该服务由{team}负责。请呼叫 {rotation} 值班轮次，值班工程师须在{sla}分钟内"
        f"确认；无人响应时，直接电话联系研发经理。",
        f"{s} 出问题找谁：{team}，值班轮次 {rotation}，确认时限{sla}分钟，超时升级至当班经理。",
    ]
    facts = {"rotation": rotation}
    qs = [
        Q("paraphrase", f"{s} 半夜出故障该叫醒哪个组？", ("entity",)),
        Q("lexical", f"{s} 由哪个团队负责？", ("entity",)),
        Q("exact", f"{rotation} 轮值负责哪个服务？", ("rotation",)),
        Q("paraphrase", f"{s} 的值班人员要多快回应？", ("entity",)),
    ]
    return _draft(rng, s, "escalation", "升级流程", texts, qs, facts)


def _rollback(rng: random.Random, s: str, used: dict[str, set[str]]) -> Draft:
    flag = unique(rng, lambda r: f"{s.replace('-', '_')}.{r.choice(FLAGS)}", used["flag"])
    tool = rng.choice(["Argo CD", "Jenkins", "Helm", "发布平台"])
    minutes = rng.choice([5, 10, 15, 30])
    texts = [
        f"{s} 回滚：在{tool}中选择上一个版本并同步。如果出问题的版本修改了配置项 {flag}，"
        f"也要一并改回。回滚约需{minutes}分钟。",
        f"{s} 回滚流程：用{tool}重新部署上一个稳定版本（约{minutes}分钟），并将 {flag} 恢复为原值。",
    ]
    facts = {"flag": flag}
    qs = [
        Q("paraphrase", f"{s} 发版出问题了，怎么撤回？", ("entity",)),
        Q("exact", f"哪个服务回滚时还要改回 {flag}？", ("flag",)),
        Q("lexical", f"{s} 用什么工具回滚？", ("entity",)),
        Q("paraphrase", f"把 {s} 退回上一版要多长时间？", ("entity",)),
    ]
    return _draft(rng, s, "rollback", "回滚", texts, qs, facts)


def _disk(rng: random.Random, s: str, used: dict[str, set[str]]) -> Draft:
    mount = f"/data/{s.split('-')[0]}/{rng.choice(['db', 'spool', 'tmp', 'logs'])}"
    pct = rng.randrange(70, 96)
    cleanup, cleanup_q = pair(rng, CLEANUPS)
    texts = [
        f"{s} 磁盘空间不足：{mount} 使用率达到{pct}%时告警。释放空间的方法是{cleanup}。"
        f"切勿手动删除在线数据目录下的文件。",
        f"{s}：当 {mount} 使用率超过{pct}%，请{cleanup}；仍不够时申请扩容。",
    ]
    facts = {"mount": mount, "pct": str(pct), "cleanup": cleanup}
    qs = [
        Q("paraphrase", f"{s} 的服务器空间快满了，可以删什么？", ("entity",)),
        Q("lexical", f"{s} 的磁盘使用率到多少会告警？", ("entity",)),
        Q("exact", f"{mount} 达到{pct}%时该怎么办？", ("mount", "pct")),
        Q("descriptive", f"{mount} 快满的时候，要在哪个服务上{cleanup_q}？", ("mount", "cleanup")),
    ]
    return _draft(rng, s, "disk", "磁盘空间", texts, qs, facts)


def _draft(
    rng: random.Random,
    service: str,
    aspect: str,
    topic: str,
    texts: list[str],
    qs: list[Q],
    facts: dict[str, str],
) -> Draft:
    text = sentences(rng, [rng.choice(texts)], FILLER, 0.4, sep="")
    return Draft(DOMAIN, aspect, f"{service}：{topic}", text, {"entity": service, **facts}, qs)


GENERIC = [
    "重启通用要求：逐台重启服务，每台之间观察错误率面板。",
    "备份只有能恢复才有意义，各团队每季度至少演练一次恢复。",
    "值班守则：先确认告警再开始排查，以免告警继续升级。",
    "磁盘告警通常意味着日志没有轮转，请先检查 logrotate 配置。",
    "故障期间优先回滚，而不是紧急修复。",
]


def build(rng: random.Random, count: int = 40) -> list[Draft]:
    used: dict[str, set[str]] = {"port": set(), "bucket": set(), "rotation": set(), "flag": set()}
    aspects = (_restart, _alert, _backup, _escalation, _rollback, _disk)
    drafts = [aspect(rng, s, used) for s in services(rng, count) for aspect in aspects]
    drafts += [Draft(DOMAIN, "generic", "运维须知", text) for text in GENERIC]
    return drafts
