// The console's only script: the sign-in form's root/IAM switch and uploads with a progress bar
// (one PUT for small files, a multipart upload for large ones: every request streams one slice).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("kind-root"), iam = document.getElementById("kind-iam");
  if (root && iam) {
    var sync = function () { document.body.classList.toggle("signin-root", root.checked); };
    root.addEventListener("change", sync); iam.addEventListener("change", sync); sync();
  }
  var form = document.getElementById("upload");
  if (form) {
    form.addEventListener("submit", function (event) { event.preventDefault(); upload(form); });
    dropZone(form);
  }
  var keyForm = document.getElementById("key-form");
  if (keyForm) keyForm.addEventListener("submit", function (event) { event.preventDefault(); registerKey(keyForm); });
  Array.prototype.forEach.call(document.querySelectorAll("button[data-copy]"), function (button) {
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(button.dataset.copy).then(function () { button.textContent = "Copied"; },
        function () { button.textContent = "Select the text and copy it"; });
    });
  });
  var useKey = document.getElementById("use-key");
  if (useKey) useKey.addEventListener("click", function () { signInWithKey(useKey.dataset.csrf); });
});

// WebAuthn: binary values travel as base64url.
function fromB64url(text) {
  var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
  while (base64.length % 4) base64 += "=";
  var raw = atob(base64), bytes = new Uint8Array(raw.length);
  for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
  return bytes;
}

function toB64url(buffer) {
  var bytes = new Uint8Array(buffer), raw = "";
  for (var i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
  return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function postForm(url, csrf, fields) {
  return fetch(url, { method: "POST", credentials: "same-origin", body: new URLSearchParams(fields),
                      headers: { "Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": csrf } });
}

// The console's security-key ceremonies (also driven by the browser suite).
window.cofferKeys = {
  register: async function (csrf, name, extra) {
    var answer = await postForm("/security/webauthn/options", csrf, {});
    if (!answer.ok) throw new Error(await answer.text());
    var options = await answer.json();
    options.challenge = fromB64url(options.challenge);
    options.user.id = fromB64url(options.user.id);
    options.excludeCredentials = options.excludeCredentials.map(function (c) { return { type: c.type, id: fromB64url(c.id) }; });
    var credential = await navigator.credentials.create({ publicKey: options });
    var fields = Object.assign({ name: name, clientDataJSON: toB64url(credential.response.clientDataJSON),
                                 attestationObject: toB64url(credential.response.attestationObject) }, extra || {});
    var done = await postForm("/security/webauthn/register", csrf, fields);
    if (!done.ok) throw new Error(await done.text());
    return done.text();
  },
  assertion: async function (csrf, allowIDs) {
    var answer = await postForm("/signin/webauthn/options", csrf, {});
    if (!answer.ok) throw new Error(await answer.text());
    var options = await answer.json();
    options.challenge = fromB64url(options.challenge);
    var ids = allowIDs || options.allowCredentials.map(function (c) { return c.id; });
    options.allowCredentials = ids.map(function (id) { return { type: "public-key", id: fromB64url(id) }; });
    var credential = await navigator.credentials.get({ publicKey: options });
    return { credentialId: toB64url(credential.rawId), clientDataJSON: toB64url(credential.response.clientDataJSON),
             authenticatorData: toB64url(credential.response.authenticatorData), signature: toB64url(credential.response.signature) };
  },
  signIn: async function (csrf, body) {
    var answer = await postForm("/signin/webauthn", csrf, body);
    return { ok: answer.ok, status: answer.status, text: await answer.text() };
  }
};

function registerKey(form) {
  var status = document.getElementById("key-status");
  var extra = {}, serial = document.getElementById("step-serial"), code = document.getElementById("step-code");
  if (serial && code) { extra.stepSerial = serial.value; extra.stepCode = code.value; }
  var password = document.getElementById("step-password");
  if (password) extra.stepPassword = password.value;
  status.textContent = "Touch your security key…";
  window.cofferKeys.register(form.dataset.csrf, form.dataset.name, extra).then(function () {
    window.location.href = "/security?done=key-registered";
  }, function (error) { status.textContent = "The security key was not registered: " + error.message; });
}

function signInWithKey(csrf) {
  var status = document.getElementById("key-status");
  status.textContent = "Touch your security key…";
  window.cofferKeys.assertion(csrf).then(function (body) {
    return window.cofferKeys.signIn(csrf, body);
  }).then(function (result) {
    if (result.ok) window.location.href = result.text; else status.textContent = result.text;
  }, function (error) { status.textContent = "No security key answered: " + error.message; });
}

var PART = 8 * 1024 * 1024, MULTIPART_FROM = 16 * 1024 * 1024;

function send(method, url, csrf, body, onProgress) {
  return new Promise(function (resolve, reject) {
    var xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.setRequestHeader("X-CSRF-Token", csrf);
    if (onProgress) xhr.upload.addEventListener("progress", function (e) { onProgress(e.loaded); });
    xhr.onload = function () {
      if (xhr.status >= 200 && xhr.status < 300) resolve(xhr.responseText);
      else reject(new Error(xhr.responseText || ("HTTP " + xhr.status)));
    };
    xhr.onerror = function () { reject(new Error("The connection failed.")); };
    xhr.send(body);
  });
}

// Uploads: several files (chosen or dropped), one after another, each with its own progress
// and outcome; the list below refreshes in place when they are done.
function upload(form, dropped) {
  var files = Array.prototype.slice.call(dropped || document.getElementById("upload-file").files);
  if (!files.length) return;
  var bar = document.getElementById("upload-progress"), status = document.getElementById("upload-status");
  var list = document.getElementById("upload-list"), button = document.getElementById("upload-button");
  var folder = document.getElementById("upload-folder").value, named = document.getElementById("upload-key").value;
  if (folder && folder.charAt(folder.length - 1) !== "/") folder += "/";
  if (named && files.length > 1) { status.textContent = "An object key names one file: choose one file, or empty the key."; return; }
  var total = files.reduce(function (sum, file) { return sum + file.size; }, 0), before = 0, failed = 0;
  list.textContent = "";
  // The last batch's "up to date" goes now, not at this batch's first progress event.
  status.textContent = "Uploading " + files.length + (files.length === 1 ? " file…" : " files…");
  button.disabled = true;
  var rows = files.map(function (file) {
    var item = document.createElement("li"), name = document.createElement("span"), progress = document.createElement("progress");
    var outcome = document.createElement("span");
    name.textContent = named || folder + file.name; progress.max = 100; progress.value = 0; outcome.className = "outcome";
    item.appendChild(name); item.appendChild(progress); item.appendChild(outcome); list.appendChild(item);
    return { item: item, progress: progress, outcome: outcome };
  });
  var chain = Promise.resolve();
  files.forEach(function (file, index) {
    chain = chain.then(function () {
      var row = rows[index];
      return uploadOne(form, file, named || folder + file.name, function (done) {
        row.progress.value = file.size ? Math.floor(done * 100 / file.size) : 100;
        bar.value = total ? Math.floor((before + done) * 100 / total) : 100;
        status.textContent = bar.value + " %";
      }).then(function () {
        row.progress.value = 100; row.outcome.textContent = "Uploaded"; row.item.className = "done";
      }, function (error) {
        failed += 1; row.outcome.textContent = "Failed: " + error.message; row.item.className = "failed";
      }).then(function () { before += file.size; });
    });
  });
  chain.then(function () {
    button.disabled = false;
    document.getElementById("upload-file").value = "";
    document.getElementById("upload-key").value = "";
    bar.value = 100;
    status.textContent = failed ? failed + " of " + files.length + " uploads failed: see below."
                                : "100 % — " + files.length + (files.length === 1 ? " file" : " files") + " uploaded.";
    return refreshList();
  });
}

function uploadOne(form, file, key, show) {
  var bucket = form.dataset.bucket, csrf = form.dataset.csrf;
  var base = "/buckets/" + encodeURIComponent(bucket), q = "key=" + encodeURIComponent(key);
  if (file.size < MULTIPART_FROM) return send("PUT", base + "/upload?" + q, csrf, file, show);
  return send("POST", base + "/uploads?" + q, csrf, null).then(function (uploadId) {
    var sent = 0, chain = Promise.resolve(), number = 0, id = "&uploadId=" + encodeURIComponent(uploadId);
    for (var start = 0; start < file.size; start += PART) {
      (function (slice, n) {
        chain = chain.then(function () {
          return send("PUT", base + "/uploads/part?" + q + id + "&partNumber=" + n, csrf, slice,
                      function (loaded) { show(sent + loaded); })
            .then(function () { sent += slice.size; show(sent); });
        });
      })(file.slice(start, start + PART), ++number);
    }
    return chain.then(function () {
      return send("POST", base + "/uploads/complete?" + q + id, csrf, null);
    }, function (error) {
      send("POST", base + "/uploads/abort?" + q + id, csrf, null);
      throw error;
    });
  });
}

// The objects list, fetched again and put in place (the upload's progress stays on the page).
function refreshList() {
  return fetch(window.location.href, { credentials: "same-origin" }).then(function (answer) {
    return answer.ok ? answer.text() : null;
  }).then(function (html) {
    if (!html) return;
    var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("delete-form");
    var current = document.getElementById("delete-form");
    if (fresh && current) current.replaceWith(document.importNode(fresh, true));
    var marker = document.createElement("span");
    marker.id = "upload-done"; marker.textContent = " The list below is up to date.";
    document.getElementById("upload-status").appendChild(marker);
  });
}

function dropZone(form) {
  var zone = document.getElementById("drop-zone");
  if (!zone) return;
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function () { zone.classList.remove("over"); });
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    if (event.dataTransfer && event.dataTransfer.files.length) upload(form, event.dataTransfer.files);
  });
}
