"""Texts users read, in zh-CN first and English; a workspace's locale picks one."""

from __future__ import annotations

import string
from typing import Any

_TEXTS: dict[str, dict[str, str]] = {
    "welcome.default": {
        "zh-CN": "欢迎 {mentions} 加入「{group}」！{rules}",
        "en": "Welcome {mentions} to {group}! {rules}",
    },
    "welcome.reason": {
        "zh-CN": "新成员入群欢迎（{count} 人）",
        "en": "welcome for {count} newcomer(s)",
    },
    "task.message.send": {
        "zh-CN": "请在群「{group}」发送：{text}",
        "en": "Please post in group {group}: {text}",
    },
    "task.message.delete": {
        "zh-CN": "请在群「{group}」撤回成员 {member} 的消息 {message_id}：{reason}",
        "en": "Please delete message {message_id} of {member} in group {group}: {reason}",
    },
    "task.member.warn": {
        "zh-CN": "请在群「{group}」提醒成员 {member}：{reason}",
        "en": "Please warn {member} in group {group}: {reason}",
    },
    "task.member.mute": {
        "zh-CN": "请在群「{group}」禁言成员 {member}：{reason}",
        "en": "Please mute {member} in group {group}: {reason}",
    },
    "task.member.remove": {
        "zh-CN": "请将成员 {member} 移出群「{group}」：{reason}",
        "en": "Please remove {member} from group {group}: {reason}",
    },
    "task.member.blacklist": {
        "zh-CN": "请将成员 {member} 移出群「{group}」并拉黑：{reason}",
        "en": "Please remove and ban {member} from group {group}: {reason}",
    },
    "task.staff.task": {"zh-CN": "{reason}", "en": "{reason}"},
    "checkin.reply": {
        "zh-CN": (
            "@{nickname} 签到成功！已连续签到 {streak} 天，+{points} 积分，当前 {balance} 积分"
        ),
        "en": "@{nickname} checked in! {streak}-day streak, +{points} points, {balance} in total",
    },
    "checkin.reason": {
        "zh-CN": "签到（连续 {streak} 天）",
        "en": "check-in ({streak}-day streak)",
    },
    "challenge.reason": {"zh-CN": "完成打卡挑战「{name}」", "en": "challenge {name} completed"},
    "challenge.done": {
        "zh-CN": "🎉 恭喜 @{nickname} 完成打卡挑战「{name}」！奖励 {points} 积分",
        "en": "🎉 Well done @{nickname}: challenge {name} completed! +{points} points",
    },
    "challenge.task": {
        "zh-CN": "成员 {member} 完成了打卡挑战「{name}」：请{task}",
        "en": "{member} completed challenge {name}: please {task}",
    },
    "points.spend_reason": {"zh-CN": "积分兑换：{reason}", "en": "points spent: {reason}"},
    "points.message_reason": {"zh-CN": "发言积分", "en": "points for speaking"},
    "levels.up": {
        "zh-CN": "恭喜 @{nickname} 升级为「{level}」！累计积分 {earned}",
        "en": "Congratulations @{nickname}, you are now {level}! {earned} points earned",
    },
    "levels.reason": {"zh-CN": "等级提升：{level}", "en": "level up: {level}"},
    "job.failed": {
        "zh-CN": "定时任务 {kind} 执行失败，已暂停：{error}。请检查配置。",
        "en": "Scheduled work {kind} failed and was set aside: {error}. Please check the "
        "configuration.",
    },
    "cli.error": {"zh-CN": "错误", "en": "error"},
    "cli.port_busy": {
        "zh-CN": "无法监听 {host}:{port}（{reason}）：可能已有程序在用，"
        "请换一个端口，例如 --port 8001",
        "en": "cannot listen on {host}:{port} ({reason}): another program may be using it; "
        "choose another with --port, e.g. --port 8001",
    },
    "cli.empty_input": {
        "zh-CN": "{source} 中没有事件：什么也没有导入",
        "en": "{source} has no events: nothing was ingested",
    },
    "cli.delete_needs_yes": {
        "zh-CN": "删除工作区 {name} 需要确认：在终端里运行，或加 --yes",
        "en": "deleting workspace {name} needs a confirmation: run it in a terminal, or add --yes",
    },
    "cli.delete_confirm": {
        "zh-CN": "将删除工作区 {name} 及其全部数据（先导出）。输入工作区名称以确认",
        "en": "Workspace {name} and all its data will be deleted (exported first). Type its name "
        "to confirm",
    },
    "cli.delete_not_confirmed": {
        "zh-CN": "名称不符，未删除任何数据",
        "en": "the name did not match: nothing was deleted",
    },
    "cli.delete_exported": {"zh-CN": "已导出到 {path}", "en": "exported to {path}"},
    "cli.which_workspace": {
        "zh-CN": "请用 --workspace 指定工作区（可选：{names}）",
        "en": "say which workspace with --workspace (one of: {names})",
    },
    "cli.no_workspace_yet": {
        "zh-CN": "还没有工作区：先运行 shequn workspace create acme",
        "en": "no workspace yet: shequn workspace create acme",
    },
    "cli.crashed": {"zh-CN": "命令意外失败（{fault}）", "en": "the command failed ({fault})"},
    "cli.crash_logged": {"zh-CN": "详情已写入 {path}", "en": "details are in {path}"},
    "cli.nothing_stored": {"zh-CN": "未存储任何数据：{detail}", "en": "nothing stored: {detail}"},
    "cli.config_rejected": {
        "zh-CN": "配置未通过校验（{count} 处错误）",
        "en": "configuration rejected ({count} errors)",
    },
    "cli.workspace_created": {"zh-CN": "已创建工作区 {name}", "en": "workspace {name} created"},
    "cli.config_applied": {"zh-CN": "配置已生效", "en": "configuration applied"},
    "cli.migrated": {"zh-CN": "数据库迁移完成", "en": "migrations applied"},
    "cli.renamed_key": {
        "zh-CN": "提示：配置项 {old} 已更名为 {new}，已按新名称保存；旧名称将在下一版本停用",
        "en": "note: configuration key {old} is now {new} and was stored so; the old name goes"
        " away in the next release",
    },
    "cli.renamed_option": {
        "zh-CN": "提示：{old} 已更名为 {new}（来源渠道），旧写法将在下一版本停用",
        "en": "note: {old} is now {new} (acquisition source); the old spelling goes away in the"
        " next release",
    },
    "cli.renamed_command": {
        "zh-CN": "提示：shequn {old} 已更名为 shequn {new}（来源渠道），旧命令将在下一版本停用",
        "en": "note: shequn {old} is now shequn {new} (acquisition sources); the old command goes"
        " away in the next release",
    },
    "cli.demo_ready": {
        "zh-CN": "演示工作区 {name} 已就绪（已导入 {events} 条事件）",
        "en": "demo workspace {name} is ready ({events} events ingested)",
    },
    "cli.demo_url": {"zh-CN": "地址", "en": "URL"},
    "cli.demo_database": {
        "zh-CN": "演示数据库（与你的工作区分开）",
        "en": "demo database (apart from yours)",
    },
    "cli.demo_simulating": {
        "zh-CN": "正在模拟 {days} 天的社群生活（首次约需一两分钟），写入 {database} …",
        "en": "simulating {days} days of community life (a minute or two the first time) "
        "into {database} …",
    },
    "cli.demo_docs": {"zh-CN": "接口文档", "en": "API docs"},
    "cli.demo_token": {"zh-CN": "管理员令牌", "en": "admin token"},
    "cli.demo_login": {"zh-CN": "控制台登录", "en": "console sign-in"},
    "cli.demo_try": {"zh-CN": "试一试", "en": "try"},
    # Errors: the key is the error's code (see platform/errors.py).
    "community.bad_slug": {
        "zh-CN": "工作区名称「{slug}」不可用：请用 1–64 个小写字母、数字、'-' 或 '_'，"
        "例如 {suggestion}",
        "en": "workspace name {slug!r}: use 1–64 lowercase letters, digits, '-' or '_', "
        "e.g. {suggestion}",
    },
    "community.workspace_exists": {
        "zh-CN": "工作区「{slug}」已存在",
        "en": "workspace {slug!r} already exists",
    },
    "community.no_token": {"zh-CN": "没有令牌 {token}", "en": "no token {token}"},
    "community.token_expired_already": {
        "zh-CN": "令牌的到期时间须晚于现在",
        "en": "a token's expiry must be later than now",
    },
    "accounts.bad_role": {
        "zh-CN": "没有角色「{role}」，可选：{roles}",
        "en": "no role {role!r}; choose from {roles}",
    },
    "accounts.bad_email": {"zh-CN": "邮箱「{email}」格式不对", "en": "{email!r} is not an email"},
    "accounts.short_password": {
        "zh-CN": "密码至少 {least} 个字符",
        "en": "a password has at least {least} characters",
    },
    "accounts.already_member": {
        "zh-CN": "{email} 已在这个工作区，角色是 {role}",
        "en": "{email} already works here, as {role}",
    },
    "accounts.no_user": {"zh-CN": "这个工作区没有 {email}", "en": "{email} does not work here"},
    "accounts.no_account": {"zh-CN": "没有账号 {email}", "en": "no account {email}"},
    "accounts.bad_login": {"zh-CN": "邮箱或密码不对", "en": "wrong email or password"},
    "accounts.too_many_sign_ins": {
        "zh-CN": "登录尝试太多，请一分钟后再试",
        "en": "too many sign-in attempts: try again in a minute",
    },
    "accounts.managers_only": {
        "zh-CN": "只有所有者和管理员可以管理成员",
        "en": "only owners and admins manage people",
    },
    "community.no_workspace": {
        "zh-CN": "没有工作区「{slug}」（可用 shequn workspace create {suggestion} 创建）",
        "en": "no workspace {slug!r} (create it with: shequn workspace create {suggestion})",
    },
    "community.config_rejected": {
        "zh-CN": "配置未通过校验（{count} 处错误）：{errors}",
        "en": "{errors}",
    },
    "events.batch_rejected": {
        "zh-CN": "批次被拒绝，未存储任何数据：{summary}",
        "en": "{summary}",
    },
    "exports.unknown_kind": {
        "zh-CN": "没有导出类型「{kind}」，可选：{kinds}",
        "en": "unknown export {kind!r}; choose from {kinds}",
    },
    "exports.unknown_format": {
        "zh-CN": "不支持的格式「{format}」，可选：{formats}",
        "en": "unknown format {format!r}; choose from {formats}",
    },
    "exports.unknown_header": {
        "zh-CN": "不支持的表头「{header}」，可选：{headers}",
        "en": "unknown header {header!r}; choose from {headers}",
    },
    "exports.no_phones": {
        "zh-CN": "导出「{kind}」不含手机号，无需显示完整手机号",
        "en": "export {kind} has no phone numbers to reveal",
    },
}


class Texts:
    """A domain's own table of texts people read: {key: {"zh-CN": …, "en": …}}.

    Each domain keeps its texts beside its code; this is the one way they are looked up,
    falling back to zh-CN, the language users read first.
    """

    def __init__(self, table: dict[str, dict[str, str]]) -> None:
        self.table = table

    def raw(self, key: str, locale: str = "zh-CN") -> str:
        texts = self.table[key]
        return texts.get(locale, texts["zh-CN"])

    def __call__(self, key: str, locale: str = "zh-CN", **values: Any) -> str:
        return self.raw(key, locale).format(**values)

    def __contains__(self, key: str) -> bool:
        return key in self.table


t = Texts(_TEXTS)
"""The core's texts: t(key, locale, **values)."""
template = t.raw


def fill(text: str, allowed: frozenset[str], **values: Any) -> str:
    """Fill an operator's template: only the named placeholders, nothing else is evaluated."""
    out = []
    for literal, name, _spec, _conv in string.Formatter().parse(text):
        out.append(literal)
        if name is not None:
            out.append(str(values[name]) if name in allowed else "{" + name + "}")
    return "".join(out)


def placeholders(text: str) -> set[str]:
    """Placeholder names used in a template (raises ValueError when it is malformed)."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
