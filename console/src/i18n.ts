// The console's words, Chinese first; English when the operator switches (kept per browser).
import { createI18n } from "vue-i18n";
import { setApiLanguage } from "./api/client";

const zhCN = {
  app: { name: "社群控制台", language: "English", signOut: "退出登录" },
  login: {
    title: "登录社群控制台",
    email: "邮箱",
    password: "密码",
    submit: "登录",
    required: "请输入邮箱和密码",
  },
  workspaces: {
    title: "选择工作区",
    none: "你还没有加入任何工作区，请联系管理员。",
    switch: "切换工作区",
    role: "角色",
    open: "进入",
  },
  roles: { owner: "所有者", admin: "管理员", operator: "运营", staff: "员工", viewer: "只读" },
  menu: { overview: "工作台", groups: "社群", members: "成员", violations: "违规处理" },
  overview: {
    groups: "社群数",
    members: "群内成员",
    violations: "违规（近 4 周）",
    reverted: "已撤销",
    funnel: "AARRR 漏斗（近 4 周）",
    timezone: "时区",
  },
  funnel: {
    joined: "入群",
    activated: "激活",
    retained: "留存",
    revenue: "付费",
    referral: "推荐",
  },
  groups: {
    name: "群名",
    id: "群 ID",
    channel: "渠道",
    status: "状态",
    size: "人数 / 上限",
    blueprint: "方案",
    owner: "群主",
    createdAt: "创建时间",
  },
  members: {
    member: "成员 ID",
    nickname: "昵称",
    groupsIn: "所在群数",
    messages: "发言数",
    lastSeen: "最近活跃",
    orders: "订单",
    spent: "消费（元）",
    blacklisted: "黑名单",
  },
  violations: {
    at: "时间",
    group: "群",
    member: "成员",
    text: "消息",
    detector: "检测器",
    category: "类别",
    actions: "处置",
    status: "状态",
    revert: "撤销",
    reverted: "已撤销",
    active: "生效中",
    confirm: "撤销这条违规？将恢复对该成员的处置。",
    done: "已撤销",
    restoreTask: "已通知员工把成员拉回群",
    noCsrf: "请重新登录后再进行更改",
  },
  category: {
    ads: "广告",
    gambling: "赌博",
    porn: "色情",
    politics: "政治",
    abuse: "辱骂",
    competitors: "竞品",
    spam: "刷屏",
  },
  action: {
    notify: "通知",
    delete: "删除",
    warn: "警告",
    mute: "禁言",
    remove: "移出",
    blacklist: "拉黑",
  },
  common: { loading: "加载中", empty: "暂无数据", yes: "是", no: "否", ok: "确定", cancel: "取消" },
};

type Messages = typeof zhCN;

const en: Messages = {
  app: { name: "Shequn console", language: "中文", signOut: "Sign out" },
  login: {
    title: "Sign in to Shequn",
    email: "Email",
    password: "Password",
    submit: "Sign in",
    required: "Enter your email and password",
  },
  workspaces: {
    title: "Choose a workspace",
    none: "You belong to no workspace yet: ask an administrator.",
    switch: "Switch workspace",
    role: "Role",
    open: "Open",
  },
  roles: { owner: "Owner", admin: "Admin", operator: "Operator", staff: "Staff", viewer: "Viewer" },
  menu: { overview: "Overview", groups: "Groups", members: "Members", violations: "Violations" },
  overview: {
    groups: "Groups",
    members: "Members in groups",
    violations: "Violations (4 weeks)",
    reverted: "Reverted",
    funnel: "AARRR funnel (4 weeks)",
    timezone: "Time zone",
  },
  funnel: {
    joined: "Joined",
    activated: "Activated",
    retained: "Retained",
    revenue: "Revenue",
    referral: "Referral",
  },
  groups: {
    name: "Name",
    id: "Group ID",
    channel: "Channel",
    status: "Status",
    size: "Size / capacity",
    blueprint: "Blueprint",
    owner: "Owner",
    createdAt: "Created",
  },
  members: {
    member: "Member ID",
    nickname: "Nickname",
    groupsIn: "Groups",
    messages: "Messages",
    lastSeen: "Last seen",
    orders: "Orders",
    spent: "Spent (CNY)",
    blacklisted: "Blacklisted",
  },
  violations: {
    at: "When",
    group: "Group",
    member: "Member",
    text: "Message",
    detector: "Detector",
    category: "Category",
    actions: "Actions",
    status: "Status",
    revert: "Revert",
    reverted: "Reverted",
    active: "Active",
    confirm: "Revert this violation? What was done to the member is undone.",
    done: "Reverted",
    restoreTask: "Staff were asked to bring the member back",
    noCsrf: "Sign in again to make changes",
  },
  category: {
    ads: "Ads",
    gambling: "Gambling",
    porn: "Porn",
    politics: "Politics",
    abuse: "Abuse",
    competitors: "Competitors",
    spam: "Spam",
  },
  action: {
    notify: "Notify",
    delete: "Delete",
    warn: "Warn",
    mute: "Mute",
    remove: "Remove",
    blacklist: "Blacklist",
  },
  common: { loading: "Loading", empty: "No data", yes: "Yes", no: "No", ok: "OK", cancel: "Cancel" },
};

export type Language = "zh-CN" | "en";
const LANGUAGE_KEY = "shequn.language";

function saved(): Language {
  return localStorage.getItem(LANGUAGE_KEY) === "en" ? "en" : "zh-CN";
}

export const i18n = createI18n({
  legacy: false,
  locale: saved(),
  fallbackLocale: "zh-CN",
  messages: { "zh-CN": zhCN, en },
});
setApiLanguage(saved());

export function setLanguage(lang: Language): void {
  i18n.global.locale.value = lang;
  localStorage.setItem(LANGUAGE_KEY, lang);
  document.documentElement.lang = lang;
  setApiLanguage(lang);
}
