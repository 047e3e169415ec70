// The browser chat: plays one persona at a time against the emulator's control API.
// Message text is rendered from Telegram entities with DOM nodes (never innerHTML), so
// only Telegram's formatting can reach the page.
"use strict";

const LABELS = {
  zh: {
    title: "支部助手 · 本地 Telegram", persona: "当前身份", newUser: "新用户", name: "姓名",
    phone: "手机号（可选）", create: "创建", chats: "会话", placeholder: "输入消息，Enter 发送",
    send: "发送", attach: "发送图片或文件", empty: "选择一个身份和会话开始聊天",
    failed: "发送失败", retry: "重试", sending: "发送中…", edited: "已编辑",
    typing: "正在输入…", reconnecting: "连接中断，正在重连…", noPersona: "（还没有用户）",
    askPhone: "请输入要分享的手机号", members: "位成员", bot: "机器人", download: "下载",
    noAnswer: "机器人没有回应这次点击", photo: "图片", file: "文件",
  },
  en: {
    title: "branchbot · local Telegram", persona: "Persona", newUser: "New user", name: "Name",
    phone: "Phone (optional)", create: "Create", chats: "Chats",
    placeholder: "Write a message, Enter to send", send: "Send", attach: "Send a photo or file",
    empty: "Pick a persona and a chat to start", failed: "Not sent", retry: "Retry",
    sending: "Sending…", edited: "edited", typing: "typing…",
    reconnecting: "Connection lost, reconnecting…", noPersona: "(no users yet)",
    askPhone: "Phone number to share", members: "members", bot: "bot", download: "Download",
    noAnswer: "The bot did not answer this press", photo: "photo", file: "file",
  },
};

const state = {
  lang: localStorage.getItem("emu.lang") || "zh",
  bot: null,
  users: [],
  chats: [],
  personaId: Number(localStorage.getItem("emu.persona")) || null,
  chatId: null,
  messages: new Map(), // message_id -> Message of the open chat
  replyKeyboard: null,
  localSeq: 0,
};

const $ = (id) => document.getElementById(id);
const t = (key) => LABELS[state.lang][key] || key;
const api = (path) => new URL(`_emu/${path}`, document.baseURI);

async function call(method, path, body) {
  const init = { method, headers: {} };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    init.headers["Content-Type"] = "application/json";
  }
  const resp = await fetch(api(path), init);
  const data = await resp.json();
  if (!resp.ok) throw new Error(data.description || resp.statusText);
  return data;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

// --- UI language ---------------------------------------------------------------------

function applyLanguage() {
  document.documentElement.lang = state.lang === "zh" ? "zh-Hans" : "en";
  document.title = t("title");
  for (const node of document.querySelectorAll("[data-i18n]")) node.textContent = t(node.dataset.i18n);
  for (const node of document.querySelectorAll("[data-i18n-placeholder]")) {
    node.placeholder = t(node.dataset.i18nPlaceholder);
  }
  for (const node of document.querySelectorAll("[data-i18n-title]")) node.title = t(node.dataset.i18nTitle);
  $("lang-toggle").textContent = state.lang === "zh" ? "EN" : "中文";
  renderPersonas();
  renderChatList();
  renderMessages();
}

// --- personas and chats ----------------------------------------------------------------

function displayName(user) {
  return [user.first_name, user.last_name].filter(Boolean).join(" ");
}

async function loadPersonas() {
  [state.bot, state.users] = await Promise.all([call("GET", "bot"), call("GET", "users")]);
  if (!state.users.some((u) => u.id === state.personaId)) {
    state.personaId = state.users.length ? state.users[0].id : null;
  }
  renderPersonas();
  await loadChats();
}

function renderPersonas() {
  const select = $("persona");
  select.replaceChildren();
  if (!state.users.length) select.append(new Option(t("noPersona"), ""));
  for (const user of state.users) {
    const extra = user.username ? ` @${user.username}` : "";
    select.append(new Option(`${displayName(user)}${extra}`, user.id, false, user.id === state.personaId));
  }
}

async function loadChats() {
  state.chats = state.personaId ? await call("GET", `chats?user_id=${state.personaId}`) : [];
  if (!state.chats.some((c) => c.id === state.chatId)) {
    state.chatId = state.chats.length ? state.chats[0].id : null;
  }
  renderChatList();
  await openChat(state.chatId);
}

function chatTitle(chat) {
  return chat.type === "private" ? state.bot.first_name : chat.title;
}

function chatStatus(chat) {
  if (!chat) return "";
  if (chat.type === "private") return t("bot");
  const present = chat.members.filter((m) => ["creator", "administrator", "member"].includes(m.status));
  return `${present.length} ${t("members")}`;
}

function renderChatList() {
  const list = $("chat-list");
  list.replaceChildren();
  for (const chat of state.chats) {
    const item = el("li", "chat-item" + (chat.id === state.chatId ? " active" : ""));
    item.dataset.chatId = chat.id;
    item.append(el("div", "name", chatTitle(chat)));
    const last = chat.last_message;
    item.append(el("div", "preview", last ? summary(last) : ""));
    item.addEventListener("click", () => openChat(chat.id));
    list.append(item);
  }
}

function summary(message) {
  if (message.text) return message.text;
  if (message.photo) return `[${t("photo")}] ${message.caption || ""}`;
  if (message.document) return `[${t("file")}] ${message.document.file_name || ""}`;
  if (message.contact) return `☎ ${message.contact.phone_number}`;
  return "";
}

async function openChat(chatId) {
  state.chatId = chatId;
  state.messages = new Map();
  state.replyKeyboard = null;
  renderChatList();
  const chat = state.chats.find((c) => c.id === chatId);
  $("chat-title").textContent = chat ? chatTitle(chat) : "";
  $("chat-status").textContent = chatStatus(chat);
  if (chatId !== null) {
    const data = await call("GET", `chats/${chatId}/messages`);
    if (state.chatId !== chatId) return; // the user switched again meanwhile
    for (const message of data.messages) state.messages.set(message.message_id, { message });
    state.replyKeyboard = data.reply_keyboard;
  }
  renderMessages();
  renderReplyKeyboard();
  scrollToBottom(true);
}

// --- messages ----------------------------------------------------------------------------

function renderMessages() {
  const box = $("messages");
  box.replaceChildren();
  if (state.chatId === null || !state.messages.size) {
    box.append(el("p", "empty", state.chatId === null ? t("empty") : ""));
    return;
  }
  for (const entry of state.messages.values()) box.append(renderEntry(entry));
}

function renderEntry(entry) {
  const { message } = entry;
  const mine = message.from && message.from.id === state.personaId;
  const node = el("div", "msg" + (mine ? " mine" : "") + (entry.status ? ` ${entry.status}` : ""));
  node.dataset.messageId = message.message_id;
  const bubble = el("div", "bubble");
  const chat = state.chats.find((c) => c.id === state.chatId);
  if (!mine && chat && chat.type !== "private" && message.from) {
    bubble.append(el("div", "sender", message.from.first_name));
  }
  if (message.reply_to_message) {
    bubble.append(el("div", "reply-quote", summary(message.reply_to_message).slice(0, 80)));
  }
  if (message.photo) {
    const img = el("img", "photo");
    img.src = api(`files/${encodeURIComponent(message.photo[message.photo.length - 1].file_id)}`);
    img.alt = message.caption || "photo";
    bubble.append(img);
  }
  if (message.document) {
    const link = el("a", "document", `⤓ ${message.document.file_name || t("download")}`);
    link.href = api(`files/${encodeURIComponent(message.document.file_id)}`);
    link.download = message.document.file_name || "";
    bubble.append(link, document.createElement("br"));
  }
  if (message.contact) bubble.append(el("span", "contact", `☎ ${message.contact.phone_number}`));
  const text = message.text ?? message.caption;
  if (text) bubble.append(renderText(text, message.entities || message.caption_entities || []));
  node.append(bubble);
  if (message.reply_markup && message.reply_markup.inline_keyboard) {
    node.append(renderInlineKeyboard(message));
  }
  node.append(renderMeta(entry));
  return node;
}

function renderMeta(entry) {
  const meta = el("div", "meta");
  if (entry.status === "failed") {
    meta.append(el("span", "", t("failed")));
    const retry = el("button", "retry", t("retry"));
    retry.type = "button";
    retry.addEventListener("click", () => entry.retry());
    meta.append(retry);
    return meta;
  }
  if (entry.status === "pending") {
    meta.textContent = t("sending");
    return meta;
  }
  const date = new Date(entry.message.date * 1000);
  const time = date.toLocaleTimeString(state.lang === "zh" ? "zh-CN" : "en-GB", { hour: "2-digit", minute: "2-digit" });
  meta.textContent = entry.message.edit_date ? `${t("edited")} ${time}` : time;
  return meta;
}

// Telegram entity offsets count UTF-16 code units, which is what JavaScript strings index.
function renderText(text, entities) {
  const sorted = [...entities].sort((a, b) => a.offset - b.offset || b.length - a.length);
  const root = document.createElement("span");
  build(root, text, sorted, 0, text.length);
  return root;
}

function build(parent, text, entities, start, end) {
  let pos = start;
  let i = 0;
  while (i < entities.length) {
    const entity = entities[i];
    const from = Math.max(entity.offset, start);
    const to = Math.min(entity.offset + entity.length, end);
    const inner = [];
    let j = i + 1;
    while (j < entities.length && entities[j].offset < entity.offset + entity.length) inner.push(entities[j++]);
    if (from >= to) { i = j; continue; }
    if (from > pos) parent.append(text.slice(pos, from));
    const node = entityNode(entity, text.slice(from, to));
    build(node.inner || node, text, inner, from, to);
    parent.append(node.outer || node);
    pos = to;
    i = j;
  }
  if (pos < end) parent.append(text.slice(pos, end));
}

function safeUrl(url) {
  try {
    const parsed = new URL(url, "https://invalid.example/");
    return ["http:", "https:", "tg:", "mailto:"].includes(parsed.protocol) ? parsed.href : null;
  } catch { return null; }
}

function entityNode(entity, value) {
  const simple = { bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code", blockquote: "blockquote", expandable_blockquote: "blockquote" };
  if (simple[entity.type]) return el(simple[entity.type]);
  switch (entity.type) {
    case "pre": {
      const outer = el("pre");
      const inner = el("code");
      if (entity.language) inner.dataset.language = entity.language;
      outer.append(inner);
      return { outer, inner };
    }
    case "text_link":
    case "url": {
      const href = safeUrl(entity.type === "url" ? value : entity.url);
      if (!href) return el("span");
      const link = el("a");
      link.href = href;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      return link;
    }
    case "spoiler": {
      const span = el("span", "spoiler");
      span.addEventListener("click", () => span.classList.add("revealed"));
      return span;
    }
    case "bot_command": {
      const span = el("a", "command");
      span.addEventListener("click", () => sendText(value));
      return span;
    }
    default:
      return el("span", entity.type);
  }
}

function renderInlineKeyboard(message) {
  const box = el("div", "inline-keyboard");
  for (const row of message.reply_markup.inline_keyboard) {
    const line = el("div", "inline-row");
    for (const button of row) {
      const node = el("button", "inline-btn", button.text);
      node.type = "button";
      node.addEventListener("click", () => pressInline(message, button, node));
      line.append(node);
    }
    box.append(line);
  }
  return box;
}

async function pressInline(message, button, node) {
  if (button.url) { const href = safeUrl(button.url); if (href) window.open(href, "_blank", "noopener"); return; }
  if (button.callback_data === undefined) return;
  node.disabled = true;
  try {
    const { callback_query_id: id } = await call("POST", "callbacks", {
      user_id: state.personaId, chat_id: message.chat.id, message_id: message.message_id, data: button.callback_data,
    });
    const result = await call("GET", `callbacks/${id}?timeout=10`);
    if (!result.answered) toast(t("noAnswer"));
    else if (result.answer.text) {
      if (result.answer.show_alert) window.alert(result.answer.text);
      else toast(result.answer.text);
    }
  } catch (error) {
    toast(error.message);
  } finally {
    node.disabled = false;
  }
}

function toast(text) {
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 3000);
}

function scrollToBottom(force) {
  const box = $("messages");
  if (force || box.scrollHeight - box.scrollTop - box.clientHeight < 120) box.scrollTop = box.scrollHeight;
}

function upsertMessage(message, status) {
  const entry = state.messages.get(message.message_id) || {};
  Object.assign(entry, { message, status });
  state.messages.set(message.message_id, entry);
  const existing = document.querySelector(`.msg[data-message-id="${message.message_id}"]`);
  if (existing) existing.replaceWith(renderEntry(entry));
  else {
    $("messages").querySelector(".empty")?.remove();
    $("messages").append(renderEntry(entry));
    scrollToBottom(false);
  }
}

// --- sending ---------------------------------------------------------------------------

// A send is shown at once; a failure keeps it on screen with a retry button.
async function optimisticSend(preview, perform) {
  const localId = `local-${++state.localSeq}`;
  const entry = { message: { ...preview, message_id: localId, date: Date.now() / 1000, from: { id: state.personaId } }, status: "pending" };
  entry.retry = async () => {
    entry.status = "pending";
    redrawLocal(localId, entry);
    await attempt();
  };
  const attempt = async () => {
    try {
      const message = await perform();
      state.messages.delete(localId);
      document.querySelector(`.msg[data-message-id="${localId}"]`)?.remove();
      upsertMessage(message);
    } catch (error) {
      entry.status = "failed";
      entry.error = error.message;
      redrawLocal(localId, entry);
    }
  };
  state.messages.set(localId, entry);
  $("messages").querySelector(".empty")?.remove();
  $("messages").append(renderEntry(entry));
  scrollToBottom(true);
  await attempt();
}

function redrawLocal(localId, entry) {
  const node = document.querySelector(`.msg[data-message-id="${localId}"]`);
  if (node) {
    const fresh = renderEntry(entry);
    if (entry.error) fresh.title = entry.error;
    node.replaceWith(fresh);
  }
}

function sendText(text) {
  if (!text.trim() || !state.personaId || state.chatId === null) return;
  const chatId = state.chatId;
  return optimisticSend({ text, chat: { id: chatId } }, () =>
    call("POST", "messages", { user_id: state.personaId, chat_id: chatId, text }));
}

function shareContact() {
  const persona = state.users.find((u) => u.id === state.personaId);
  let phone = persona && persona.phone;
  if (!phone) phone = window.prompt(t("askPhone"));
  if (!phone) return;
  const chatId = state.chatId;
  return optimisticSend({ contact: { phone_number: phone }, chat: { id: chatId } }, () =>
    call("POST", "messages", { user_id: state.personaId, chat_id: chatId, contact: true, phone }));
}

function sendFile(file) {
  const chatId = state.chatId;
  const kind = file.type.startsWith("image/") ? "photo" : "document";
  const form = new FormData();
  form.append("user_id", state.personaId);
  form.append("chat_id", chatId);
  form.append("kind", kind);
  form.append("file", file, file.name);
  const preview = kind === "photo" ? { caption: `[${t("photo")}] ${file.name}` } : { document: { file_name: file.name, file_id: "" } };
  return optimisticSend({ ...preview, chat: { id: chatId } }, () => call("POST", "uploads", form));
}

function renderReplyKeyboard() {
  const box = $("reply-keyboard");
  box.replaceChildren();
  const keyboard = state.replyKeyboard;
  box.hidden = !keyboard;
  if (!keyboard) return;
  for (const row of keyboard.keyboard) {
    const line = el("div", "reply-row");
    for (const button of row) {
      const node = el("button", "reply-btn", button.text);
      node.type = "button";
      node.addEventListener("click", () => {
        if (button.request_contact) shareContact();
        else sendText(button.text);
        if (keyboard.one_time_keyboard) { state.replyKeyboard = null; renderReplyKeyboard(); }
      });
      line.append(node);
    }
    box.append(line);
  }
}

// --- live updates ----------------------------------------------------------------------

function connectStream() {
  const source = new EventSource(api("stream"));
  let connectedBefore = false;
  source.addEventListener("hello", () => {
    $("connection").hidden = true;
    if (connectedBefore) loadPersonas(); // catch up on what happened while disconnected
    connectedBefore = true;
  });
  source.onmessage = (event) => handleEvent(JSON.parse(event.data));
  source.onerror = () => { $("connection").hidden = false; };
}

let typingTimer = null;

function handleEvent(event) {
  if (["user", "chat", "reset"].includes(event.type)) {
    loadPersonas();
    return;
  }
  const chat = state.chats.find((c) => c.id === event.chat_id);
  if (chat && (event.type === "message" || event.type === "edit")) {
    if (event.type === "message") chat.last_message = event.message;
    renderChatList();
  }
  if (event.chat_id !== state.chatId) return;
  switch (event.type) {
    case "message":
    case "edit":
      upsertMessage(event.message);
      if (event.from_bot) showTyping(false, chat);
      break;
    case "delete":
      state.messages.delete(event.message_id);
      document.querySelector(`.msg[data-message-id="${event.message_id}"]`)?.remove();
      break;
    case "reply_keyboard":
      state.replyKeyboard = event.keyboard;
      renderReplyKeyboard();
      break;
    case "chat_action":
      showTyping(true, chat);
      break;
  }
}

// Telegram shows a chat action for about 5 s or until the next message
function showTyping(on, chat) {
  clearTimeout(typingTimer);
  $("chat-status").textContent = on ? t("typing") : chatStatus(chat);
  if (on) typingTimer = setTimeout(() => showTyping(false, chat), 5000);
}

// --- wiring ----------------------------------------------------------------------------

function init() {
  $("lang-toggle").addEventListener("click", () => {
    state.lang = state.lang === "zh" ? "en" : "zh";
    localStorage.setItem("emu.lang", state.lang);
    applyLanguage();
  });
  $("persona").addEventListener("change", (event) => {
    state.personaId = Number(event.target.value) || null;
    localStorage.setItem("emu.persona", state.personaId || "");
    loadChats();
  });
  $("new-user-toggle").addEventListener("click", () => { $("new-user-form").hidden = !$("new-user-form").hidden; });
  $("new-user-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const form = new FormData(event.target);
    const body = { first_name: form.get("first_name"), language_code: form.get("language_code") };
    if (form.get("phone")) body.phone = form.get("phone");
    try {
      const user = await call("POST", "users", body);
      state.personaId = user.id;
      localStorage.setItem("emu.persona", user.id);
      event.target.reset();
      event.target.hidden = true;
      await loadPersonas();
    } catch (error) { toast(error.message); }
  });
  const input = $("composer-input");
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      $("composer").requestSubmit();
    }
  });
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    input.value = "";
    sendText(text);
  });
  $("file-input").addEventListener("change", (event) => {
    const [file] = event.target.files;
    if (file && state.chatId !== null) sendFile(file);
    event.target.value = "";
  });
  applyLanguage();
  loadPersonas().catch((error) => toast(error.message));
  connectStream();
}

document.addEventListener("DOMContentLoaded", init);
