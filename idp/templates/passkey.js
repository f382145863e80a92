// Runs the WebAuthn ceremony of a passkey page (registration or sign-in): reads the
// options the server put in the form's data-options, asks the browser's authenticator,
// and posts the answer back in the form (with its CSRF token) as JSON, binary fields in
// base64url. Served as a file: the pages' CSP allows no inline script.
(function () {
  "use strict";
  var form = document.getElementById("passkey-form");
  var button = document.getElementById("passkey-start");
  if (!form || !button) {
    return;
  }
  if (!window.PublicKeyCredential || !navigator.credentials) {
    document.getElementById("passkey-unsupported").hidden = false;
    button.disabled = true;
    return;
  }
  function toBytes(s) {
    var b64 = s.replace(/-/g, "+").replace(/_/g, "/");
    while (b64.length % 4) {
      b64 += "=";
    }
    var bin = atob(b64);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) {
      out[i] = bin.charCodeAt(i);
    }
    return out.buffer;
  }
  function toText(buf) {
    if (!buf) {
      return null;
    }
    var bytes = new Uint8Array(buf);
    var bin = "";
    for (var i = 0; i < bytes.length; i++) {
      bin += String.fromCharCode(bytes[i]);
    }
    return btoa(bin).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function decodeList(list) {
    (list || []).forEach(function (c) {
      c.id = toBytes(c.id);
    });
  }
  function answer(cred) {
    var r = cred.response;
    var response = { clientDataJSON: toText(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toText(r.attestationObject);
    } else {
      response.authenticatorData = toText(r.authenticatorData);
      response.signature = toText(r.signature);
      response.userHandle = toText(r.userHandle);
    }
    return {
      id: cred.id,
      rawId: toText(cred.rawId),
      type: cred.type,
      response: response,
      extensions: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {}
    };
  }
  button.addEventListener("click", function () {
    var options = JSON.parse(form.dataset.options);
    var pk = options.publicKey;
    pk.challenge = toBytes(pk.challenge);
    var ask;
    if (form.dataset.mode === "create") {
      pk.user.id = toBytes(pk.user.id);
      decodeList(pk.excludeCredentials);
      ask = navigator.credentials.create({ publicKey: pk });
    } else {
      decodeList(pk.allowCredentials);
      ask = navigator.credentials.get({ publicKey: pk });
    }
    button.disabled = true;
    ask.then(function (cred) {
      document.getElementById("passkey-credential").value = JSON.stringify(answer(cred));
      form.submit();
    }).catch(function () {
      // Cancelled or refused by the authenticator: the person may try again.
      button.disabled = false;
    });
  });
})();
