// Groups: create one, answer invitations, and open a group.

import { h, replace } from "./dom.js";
import { post } from "./api.js";
import { state, on, loadGroups, loadRecent } from "./store.js";
import { field, showError, busy } from "./form.js";

export function mountGroups(root) {
  const name = field("Group name", { name: "name", autocomplete: "off", autocapitalize: "off", hint: "1–32 letters, digits, dots, dashes or underscores." });
  const err = h("p.form-error", { role: "alert" });
  const create = h("form.inline", { "aria-label": "Create a group" }, name.row, h("button.primary", { type: "submit" }, "Create group"), err);
  const invites = h("div");
  const list = h("div");
  replace(root, h("section.page", { "aria-labelledby": "groups-title" },
    h("header.page-head", h("a.iconbtn.back", { href: "#/", "aria-label": "Back to conversations" }, "←"), h("h1#groups-title", "Groups")),
    h("h2", "New group"), create, invites, list));

  create.addEventListener("submit", async (e) => {
    e.preventDefault();
    const n = name.input.value.trim().replace(/^#/, "");
    if (!n) { showError([name], err, { code: "invalid", field: "name", message: "Group name is required." }); return; }
    let g;
    try {
      g = await busy(create, () => post("/v1/groups/create", { name: n }));
    } catch (er) {
      showError([name], err, er.code === "invalid" || er.code === "conflict" ? { ...er, field: "name" } : er);
      return;
    }
    await Promise.all([loadGroups(), loadRecent()]);
    location.hash = "#/c/" + encodeURIComponent("#" + g.name);
  });

  async function answer(gname, action) {
    try {
      await post(`/v1/groups/${action}`, { name: gname });
    } catch (e) { err.textContent = e.message; }
    await Promise.all([loadGroups(), loadRecent()]);
  }

  function draw() {
    const inv = state.groups.invites;
    replace(invites, inv.length ? h("section", { "aria-label": "Invitations" }, h("h2", "Invitations"),
      h("ul.rows", inv.map((i) => h("li", { "aria-label": `Invitation to #${i.group.name} from ${i.by}` },
        h("span.rname", "#" + i.group.name, h("small.hint", ` ${i.group.members} member${i.group.members === 1 ? "" : "s"}, invited by ${i.by}`)),
        h("span.btns",
          h("button.small.primary", { type: "button", "aria-label": `Join #${i.group.name}`, onclick: () => answer(i.group.name, "join") }, "Join")))))) : null);
    const gs = state.groups.groups;
    replace(list, h("section", { "aria-label": "Your groups" }, h("h2", `Your groups (${gs.length})`),
      gs.length ? h("ul.rows", gs.map((g) => h("li", { "aria-label": `Group #${g.name}, ${g.members} member${g.members === 1 ? "" : "s"}, owner ${g.owner}` },
        h("a.rname", { href: "#/c/" + encodeURIComponent("#" + g.name) }, "#" + g.name),
        h("span.hint", `${g.members} member${g.members === 1 ? "" : "s"} · owner ${g.owner}`))))
        : h("p.hint", "You are in no group yet: create one above, or ask someone to invite you.")));
  }
  const offs = [on("groups", draw)];
  loadGroups();
  draw();
  return () => offs.forEach((f) => f());
}
