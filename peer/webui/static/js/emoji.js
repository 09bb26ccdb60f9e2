// A Unicode emoji picker: a small dialog of common emoji, each a button
// named for screen readers. Picking one inserts it at the caret.

import { h } from "./dom.js";

const SETS = [
  ["Smileys", "😀 grinning,😃 smiley,😄 smile,😁 grin,😆 laughing,😅 sweat smile,😂 joy,🙂 slight smile,😉 wink,😊 blush,😇 innocent,😍 heart eyes,😘 kiss,😋 yum,😛 tongue,🤔 thinking,🤨 raised eyebrow,😐 neutral,😑 expressionless,🙄 eye roll,😏 smirk,😬 grimace,😌 relieved,😴 sleeping,😷 mask,🤒 ill,🤯 mind blown,🥳 party,😎 cool,🤓 nerd,😕 confused,😟 worried,😮 surprised,😲 astonished,😳 flushed,🥺 pleading,😢 cry,😭 sob,😱 scream,😤 triumph,😠 angry,🤬 cursing,🥱 yawn"],
  ["Gestures", "👍 thumbs up,👎 thumbs down,👌 ok hand,✌️ victory,🤞 fingers crossed,🤝 handshake,👏 clap,🙌 raised hands,👋 wave,🙏 thanks,💪 strong,👀 eyes,🫡 salute,🤷 shrug,🤦 facepalm"],
  ["Hearts", "❤️ red heart,🧡 orange heart,💛 yellow heart,💚 green heart,💙 blue heart,💜 purple heart,🖤 black heart,💔 broken heart,💯 hundred,✨ sparkles,🔥 fire,⭐ star,🎉 tada,🎂 cake,🎁 gift"],
  ["Work", "☕ coffee,🍕 pizza,🍔 burger,🍺 beer,📎 paperclip,📁 folder,📄 document,📊 chart,📅 calendar,⏰ alarm,💻 laptop,🖨️ printer,📞 phone,✉️ envelope,🔒 locked,🔑 key,✅ done,❌ cross,⚠️ warning,❓ question,💡 idea,🐛 bug,🚀 rocket,🏠 home,🚗 car,☀️ sun,🌧️ rain,❄️ snow"],
];

// emojiPicker returns a dialog; onPick gets the emoji.
export function emojiPicker(onPick, onClose) {
  const grid = [];
  for (const [title, list] of SETS) {
    const btns = list.split(",").map((s) => {
      const [ch, ...name] = s.split(" ");
      return h("button.emoji", { type: "button", "aria-label": name.join(" "), title: name.join(" "), onclick: () => onPick(ch) }, ch);
    });
    grid.push(h("div.emoji-set", { role: "group", "aria-label": title }, h("h3", title), h("div.emoji-grid", btns)));
  }
  const dlg = h("div.emoji-picker", { role: "dialog", "aria-label": "Emoji" }, grid);
  dlg.addEventListener("keydown", (e) => {
    if (e.key === "Escape") { e.stopPropagation(); onClose(); }
    const all = [...dlg.querySelectorAll("button.emoji")];
    const i = all.indexOf(document.activeElement);
    if (i < 0) return;
    const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: 8, ArrowUp: -8 }[e.key];
    if (step) { e.preventDefault(); (all[i + step] || all[i]).focus(); }
  });
  return dlg;
}
