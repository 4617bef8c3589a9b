// The coordinator's page: upload a roster or a problem, plan it in the background, watch the
// progress, read the plan by day and by volunteer, and download the schedules. It only calls the
// service's own API (`/v1/...`) with the key pasted in, kept in this tab's sessionStorage.
"use strict";

const TEXT = {
  en: {
    title: "matcher · the coordinator's page",
    language: "Language",
    key_heading: "API key",
    key_help: "Paste the key `matcher serve keys add` printed. It stays in this tab only.",
    key_placeholder: "mk.…",
    key_save: "Use this key",
    key_saved: "Key kept for this tab.",
    key_missing: "Paste an API key first.",
    key_refused: "The server refused this key.",
    plan_heading: "Plan a week",
    file_label: "Roster workbook (.xlsx) or problem (.json)",
    solver_label: "Solver",
    limit_label: "Time limit (seconds)",
    submit: "Plan",
    file_missing: "Choose a roster workbook or a problem file first.",
    file_not_json: "This file is not JSON: {detail}",
    reading_roster: "Reading the roster…",
    errors_title: "{title}: {count} problem(s)",
    progress_heading: "Progress",
    status: "Status",
    status_queued: "waiting for a worker",
    status_solving: "planning",
    status_done: "done",
    status_failed: "failed",
    status_stopped: "stopped (best plan kept)",
    elapsed: "Elapsed",
    elapsed_of: "{elapsed} s of {limit} s",
    elapsed_only: "{elapsed} s",
    visits: "Visits planned",
    visits_of: "{planned} of {wanted}",
    coverage: "Weighted coverage",
    bound: "Bound",
    gap: "Gap",
    stop: "Stop and keep the best plan",
    results_heading: "The plan",
    download: "Download:",
    download_xlsx: "Workbook (.xlsx)",
    download_ics: "Calendars (.zip)",
    download_html: "Printable pages (.zip)",
    download_pictures: "Pictures (.zip)",
    preparing: "Preparing {name}…",
    drawing: "Drawing…",
    by_day: "By day",
    by_volunteer: "By volunteer",
    unplanned: "Not planned",
    routes: "Routes",
    col_day: "Day",
    col_time: "Time",
    col_volunteer: "Volunteer",
    col_recipient: "Recipient",
    col_address: "Address",
    col_service: "Service",
    col_notes: "Notes",
    col_partners: "Together with",
    col_visit: "Visit",
    col_reason: "Reason",
    col_why: "Why",
    nothing_unplanned: "Every visit is planned.",
    route_day: "Day",
    no_routes: "No routes to draw.",
    route_alt: "Routes on {day}",
    volunteer_load: "{minutes} of {offered} minutes offered",
    network_error: "The server could not be reached: {detail}",
  },
  zh: {
    title: "matcher · 协调员页面",
    language: "语言",
    key_heading: "API 密钥",
    key_help: "粘贴 `matcher serve keys add` 打印的密钥。它只保存在这个标签页里。",
    key_placeholder: "mk.…",
    key_save: "使用此密钥",
    key_saved: "密钥已保存在此标签页。",
    key_missing: "请先粘贴 API 密钥。",
    key_refused: "服务器拒绝了这个密钥。",
    plan_heading: "安排一周",
    file_label: "名册工作簿（.xlsx）或问题文件（.json）",
    solver_label: "求解器",
    limit_label: "时间上限（秒）",
    submit: "开始安排",
    file_missing: "请先选择名册工作簿或问题文件。",
    file_not_json: "这个文件不是 JSON：{detail}",
    reading_roster: "正在读取名册…",
    errors_title: "{title}：{count} 个问题",
    progress_heading: "进度",
    status: "状态",
    status_queued: "等待空闲的求解进程",
    status_solving: "正在安排",
    status_done: "已完成",
    status_failed: "失败",
    status_stopped: "已停止（保留最佳方案）",
    elapsed: "已用时间",
    elapsed_of: "{elapsed} 秒 / {limit} 秒",
    elapsed_only: "{elapsed} 秒",
    visits: "已安排服务",
    visits_of: "{planned} / {wanted}",
    coverage: "加权覆盖",
    bound: "上界",
    gap: "差距",
    stop: "停止并保留最佳方案",
    results_heading: "安排方案",
    download: "下载：",
    download_xlsx: "工作簿（.xlsx）",
    download_ics: "日历（.zip）",
    download_html: "打印页面（.zip）",
    download_pictures: "图片（.zip）",
    preparing: "正在准备{name}…",
    drawing: "正在绘制…",
    by_day: "按日期",
    by_volunteer: "按志愿者",
    unplanned: "未安排",
    routes: "路线",
    col_day: "星期",
    col_time: "时间",
    col_volunteer: "志愿者",
    col_recipient: "服务对象",
    col_address: "地址",
    col_service: "服务",
    col_notes: "备注",
    col_partners: "同行人员",
    col_visit: "次序",
    col_reason: "原因",
    col_why: "说明",
    nothing_unplanned: "所有服务都已安排。",
    route_day: "日期",
    no_routes: "没有可画的路线。",
    route_alt: "{day}的路线",
    volunteer_load: "{minutes} 分钟 / 可提供 {offered} 分钟",
    network_error: "无法连接服务器：{detail}",
  },
};

const KEY_STORAGE = "matcher.apiKey";
const LANGUAGE_STORAGE = "matcher.language";
const POLL_MS = 500;
const FINISHED = ["done", "failed", "stopped"];

const state = {
  language: sessionStorage.getItem(LANGUAGE_STORAGE) || "en",
  jobId: null,
  job: null,
  schedule: null,
  pollTimer: null,
  pictureUrl: null,
};

const $ = (id) => document.getElementById(id);

function t(code, details = {}) {
  const words = TEXT[state.language][code] ?? TEXT.en[code] ?? code;
  return words.replace(/\{(\w+)\}/g, (_, name) => String(details[name] ?? ""));
}

function applyLanguage() {
  document.documentElement.lang = state.language === "zh" ? "zh-CN" : "en";
  for (const element of document.querySelectorAll("[data-i18n]")) {
    element.textContent = t(element.dataset.i18n);
  }
  for (const element of document.querySelectorAll("[data-i18n-placeholder]")) {
    element.placeholder = t(element.dataset.i18nPlaceholder);
  }
  $("language").value = state.language;
}

// ------------------------------------------------------------------ the API

function apiKey() {
  return sessionStorage.getItem(KEY_STORAGE) || "";
}

class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

async function api(path, options = {}) {
  const headers = { Authorization: `Bearer ${apiKey()}`, ...(options.headers || {}) };
  let response;
  try {
    response = await fetch(path, { ...options, headers });
  } catch (error) {
    throw new ApiError(0, { title: t("network_error", { detail: error.message }) });
  }
  if (!response.ok) {
    let problem;
    try {
      problem = await response.json();
    } catch (_) {
      problem = { title: `HTTP ${response.status}` };
    }
    throw new ApiError(response.status, problem);
  }
  return response;
}

// ------------------------------------------------------------------ messages

function showStatus(element, message, isError = false) {
  element.textContent = message;
  element.classList.toggle("error", isError);
}

function clearErrors() {
  $("errors").hidden = true;
  $("errors-list").replaceChildren();
}

function showErrors(error) {
  const problem = error.problem || { title: String(error.message || error) };
  const items = problem.errors || [];
  $("errors-title").textContent = items.length
    ? t("errors_title", { title: problem.title, count: items.length })
    : [problem.title, problem.detail].filter(Boolean).join(": ");
  const list = items.map((item) => {
    const entry = document.createElement("li");
    const where = document.createElement("code");
    where.textContent = item.location;
    entry.append(where, document.createTextNode(`: ${item.message}`));
    return entry;
  });
  $("errors-list").replaceChildren(...list);
  $("errors").hidden = false;
}

// ------------------------------------------------------------------ submitting

async function loadSolvers() {
  try {
    const response = await fetch("/openapi.json");
    const document_ = await response.json();
    const names = document_.components.schemas.SolveJobRequest.properties.solver.enum;
    const options = names.map((name) => {
      const option = document.createElement("option");
      option.value = name;
      option.textContent = name;
      return option;
    });
    $("solver").replaceChildren(...options);
    $("solver").value = names.includes("greedy") ? "greedy" : names[0];
  } catch (_) {
    // The list the page ships with (greedy) stays.
  }
}

async function problemOfFile(file) {
  if (file.name.toLowerCase().endsWith(".json")) {
    let data;
    try {
      data = JSON.parse(await file.text());
    } catch (error) {
      throw new ApiError(0, { title: t("file_not_json", { detail: error.message }) });
    }
    return data && typeof data === "object" && "problem" in data ? data.problem : data;
  }
  const query = new URLSearchParams({ name: file.name });
  const response = await api(`/v1/import?${query}`, {
    method: "POST",
    headers: {
      "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    },
    body: file,
  });
  return response.json();
}

async function submit(event) {
  event.preventDefault();
  clearErrors();
  if (!apiKey()) {
    showErrors({ problem: { title: t("key_missing") } });
    return;
  }
  const file = $("file").files[0];
  if (!file) {
    showErrors({ problem: { title: t("file_missing") } });
    return;
  }
  $("submit").disabled = true;
  try {
    const problem = await problemOfFile(file);
    const body = {
      problem,
      solver: $("solver").value,
      time_limit_s: Number($("time-limit").value) || null,
      language: state.language,
    };
    const response = await api("/v1/plans", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const accepted = await response.json();
    startJob(accepted.id);
  } catch (error) {
    showErrors(error);
  } finally {
    $("submit").disabled = false;
  }
}

// ------------------------------------------------------------------ progress

function startJob(jobId) {
  state.jobId = jobId;
  state.job = null;
  state.schedule = null;
  $("results").hidden = true;
  $("progress-section").hidden = false;
  $("stop").disabled = false;
  clearTimeout(state.pollTimer);
  poll();
}

function fixed(value, digits = 1) {
  return value === null || value === undefined ? "–" : Number(value).toFixed(digits);
}

function showProgress(job) {
  $("job-status").textContent = t(`status_${job.status}`) + (job.error ? ` (${job.error})` : "");
  $("job-status").dataset.status = job.status;
  const progress = job.progress;
  if (!progress) {
    return;
  }
  const limit = progress.time_limit_s;
  $("progress-elapsed").textContent = limit
    ? t("elapsed_of", { elapsed: fixed(progress.elapsed_s), limit: fixed(limit, 0) })
    : t("elapsed_only", { elapsed: fixed(progress.elapsed_s) });
  $("progress-visits").textContent = t("visits_of", {
    planned: progress.visits_planned,
    wanted: progress.visits_wanted,
  });
  $("progress-coverage").textContent = fixed(progress.weighted_coverage);
  $("progress-bound").textContent = fixed(progress.bound);
  $("progress-gap").textContent =
    progress.gap === null || progress.gap === undefined ? "–" : `${fixed(100 * progress.gap)} %`;
  const bar = $("progress-bar");
  if (FINISHED.includes(job.status)) {
    bar.value = 1;
  } else if (limit) {
    bar.value = Math.min(progress.elapsed_s / limit, 1);
  } else {
    bar.removeAttribute("value");
  }
}

async function poll() {
  const jobId = state.jobId;
  let job;
  try {
    job = await (await api(`/v1/plans/${jobId}`)).json();
  } catch (error) {
    showErrors(error);
    return;
  }
  if (jobId !== state.jobId) {
    return;
  }
  state.job = job;
  showProgress(job);
  if (FINISHED.includes(job.status)) {
    $("stop").disabled = true;
    if (job.plan_url) {
      await loadSchedule();
    }
    return;
  }
  state.pollTimer = setTimeout(poll, POLL_MS);
}

async function stop() {
  if (!state.jobId) {
    return;
  }
  $("stop").disabled = true;
  try {
    await api(`/v1/plans/${state.jobId}`, { method: "DELETE" });
  } catch (error) {
    showErrors(error);
  }
}

// ------------------------------------------------------------------ the plan

function cell(text) {
  const element = document.createElement("td");
  element.textContent = text;
  return element;
}

function headingRow(text, columns, className) {
  const row = document.createElement("tr");
  row.className = className;
  const heading = document.createElement("th");
  heading.colSpan = columns;
  heading.textContent = text;
  row.append(heading);
  return row;
}

function visitRow(visit, first) {
  const row = document.createElement("tr");
  row.className = "visit";
  row.append(
    cell(first),
    cell(visit.recipient_name),
    cell(visit.address),
    cell(visit.service_name),
    cell(visit.notes),
    cell(visit.partners.join(", ")),
  );
  return row;
}

function renderSchedule(schedule) {
  const figures = schedule.figures.map((figure) => {
    const row = document.createElement("tr");
    const label = document.createElement("th");
    label.textContent = figure.label;
    row.append(label, cell(figure.value));
    return row;
  });
  $("figures").tBodies[0].replaceChildren(...figures);

  const byDay = [];
  for (const day of schedule.days) {
    byDay.push(headingRow(day.label, 7, "day"));
    for (const visit of day.visits) {
      const row = visitRow(visit, visit.time);
      row.insertBefore(cell(visit.volunteer_name), row.children[1]);
      row.dataset.day = day.day;
      byDay.push(row);
    }
  }
  $("by-day").tBodies[0].replaceChildren(...byDay);

  const labels = Object.fromEntries(schedule.days.map((day) => [day.day, day.label]));
  const byVolunteer = [];
  for (const volunteer of schedule.volunteers) {
    const load = t("volunteer_load", {
      minutes: Math.round(volunteer.total_min),
      offered: Math.round(volunteer.offered_min),
    });
    byVolunteer.push(headingRow(`${volunteer.name} · ${load}`, 7, "volunteer"));
    for (const visit of volunteer.visits) {
      const row = visitRow(visit, labels[visit.day] || visit.day);
      row.insertBefore(cell(visit.time), row.children[1]);
      row.dataset.volunteer = volunteer.volunteer;
      byVolunteer.push(row);
    }
  }
  $("by-volunteer").tBodies[0].replaceChildren(...byVolunteer);

  const unplanned = schedule.unplanned.map((item) => {
    const row = document.createElement("tr");
    row.className = "unplanned";
    row.append(
      cell(item.recipient_name),
      cell(item.service_name),
      cell(String(item.occurrence)),
      cell(item.reason),
      cell(item.message),
    );
    return row;
  });
  $("unplanned").tBodies[0].replaceChildren(...unplanned);
  $("unplanned").hidden = unplanned.length === 0;
  $("nothing-unplanned").hidden = unplanned.length !== 0;

  const days = schedule.route_pictures.map((name) => {
    const option = document.createElement("option");
    const day = name.replace(/^routes-/, "").replace(/\.png$/, "");
    option.value = name;
    option.textContent = labels[day] || day;
    return option;
  });
  const chosen = $("route-day").value;
  $("route-day").replaceChildren(...days);
  if (schedule.route_pictures.includes(chosen)) {
    $("route-day").value = chosen;
  }
  $("no-routes").hidden = days.length !== 0;
  $("results").hidden = false;
  if (!$("tab-routes").hidden) {
    loadPicture();
  }
}

async function loadSchedule() {
  if (!state.jobId || !state.job || !state.job.plan_url) {
    return;
  }
  const query = new URLSearchParams({ language: state.language });
  try {
    const response = await api(`/v1/plans/${state.jobId}/schedule?${query}`);
    state.schedule = await response.json();
    renderSchedule(state.schedule);
  } catch (error) {
    showErrors(error);
  }
}

async function loadPicture() {
  const name = $("route-day").value;
  const image = $("route-picture");
  if (!name) {
    image.hidden = true;
    return;
  }
  const query = new URLSearchParams({ language: state.language });
  $("drawing").hidden = false;
  try {
    const response = await api(`/v1/plans/${state.jobId}/pictures/${name}?${query}`);
    const blob = await response.blob();
    if (name !== $("route-day").value) {
      return;
    }
    if (state.pictureUrl) {
      URL.revokeObjectURL(state.pictureUrl);
    }
    state.pictureUrl = URL.createObjectURL(blob);
    image.src = state.pictureUrl;
    image.alt = t("route_alt", { day: $("route-day").selectedOptions[0]?.textContent || "" });
    image.hidden = false;
  } catch (error) {
    showErrors(error);
  } finally {
    $("drawing").hidden = true;
  }
}

function showTab(name) {
  for (const tab of document.querySelectorAll("[data-tab]")) {
    tab.setAttribute("aria-selected", String(tab.dataset.tab === name));
    $(`tab-${tab.dataset.tab}`).hidden = tab.dataset.tab !== name;
  }
  if (name === "routes") {
    loadPicture();
  }
}

async function download(kind) {
  const query = new URLSearchParams({ language: state.language });
  const button = document.querySelector(`[data-kind="${kind}"]`);
  button.disabled = true;
  showStatus($("download-status"), t("preparing", { name: button.textContent }));
  try {
    const response = await api(`/v1/plans/${state.jobId}/export/${kind}?${query}`);
    const blob = await response.blob();
    const disposition = response.headers.get("Content-Disposition") || "";
    const match = /filename="([^"]+)"/.exec(disposition);
    const link = document.createElement("a");
    link.href = URL.createObjectURL(blob);
    link.download = match ? match[1] : `schedule-${kind}`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 60000);
  } catch (error) {
    showErrors(error);
  } finally {
    button.disabled = false;
    showStatus($("download-status"), "");
  }
}

// ------------------------------------------------------------------ wiring

async function saveKey(event) {
  event.preventDefault();
  const key = $("api-key").value.trim();
  if (!key) {
    showStatus($("key-status"), t("key_missing"), true);
    return;
  }
  sessionStorage.setItem(KEY_STORAGE, key);
  $("api-key").value = "";
  try {
    await api("/v1/plans?limit=1");
    showStatus($("key-status"), t("key_saved"));
  } catch (error) {
    const refused = error.status === 401;
    if (refused) {
      sessionStorage.removeItem(KEY_STORAGE);
    }
    showStatus($("key-status"), refused ? t("key_refused") : error.message, true);
  }
}

function setLanguage(language) {
  state.language = language;
  sessionStorage.setItem(LANGUAGE_STORAGE, language);
  applyLanguage();
  if (state.job) {
    showProgress(state.job);
    loadSchedule();
  }
  if (apiKey()) {
    showStatus($("key-status"), t("key_saved"));
  }
}

document.addEventListener("DOMContentLoaded", () => {
  applyLanguage();
  if (apiKey()) {
    showStatus($("key-status"), t("key_saved"));
  }
  $("key-form").addEventListener("submit", saveKey);
  $("plan-form").addEventListener("submit", submit);
  $("stop").addEventListener("click", stop);
  $("language").addEventListener("change", (event) => setLanguage(event.target.value));
  $("route-day").addEventListener("change", loadPicture);
  for (const tab of document.querySelectorAll("[data-tab]")) {
    tab.addEventListener("click", () => showTab(tab.dataset.tab));
  }
  for (const button of document.querySelectorAll("[data-kind]")) {
    button.addEventListener("click", () => download(button.dataset.kind));
  }
  loadSolvers();
});
