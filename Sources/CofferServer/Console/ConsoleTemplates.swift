import Mustache

/// The console's pages: Mustache templates (every `{{value}}` is HTML-escaped; nothing here uses
/// the unescaped `{{{…}}}` form) sharing one layout, plus the one stylesheet and one script. No
/// inline script or style anywhere: the Content-Security-Policy forbids both.
enum ConsoleTemplates {
    static let library: MustacheLibrary = {
        var library = MustacheLibrary()
        for (name, text) in pages {
            do { try library.register(text, named: name) } catch { preconditionFailure("console template \(name): \(error)") }
        }
        return library
    }()

    static let pages: [String: String] = [
        "layout": #"""
<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{title}} · Coffer console</title>
<link rel="stylesheet" href="/static/console.css">
<link rel="icon" href="/favicon.ico" type="image/png">
<script src="/static/console.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="top">
<a class="brand" href="/home">Coffer</a>
{{#signedIn}}
<nav aria-label="Main">
<a href="/home"{{#menu_home}} aria-current="page"{{/menu_home}}>Home</a>
<a href="/buckets"{{#menu_buckets}} aria-current="page"{{/menu_buckets}}>Buckets</a>
<a href="/users"{{#menu_users}} aria-current="page"{{/menu_users}}>Users</a>
<a href="/groups"{{#menu_groups}} aria-current="page"{{/menu_groups}}>Groups</a>
<a href="/policies"{{#menu_policies}} aria-current="page"{{/menu_policies}}>Policies</a>
<a href="/security"{{#menu_security}} aria-current="page"{{/menu_security}}>My security credentials</a>
<a href="/audit"{{#menu_audit}} aria-current="page"{{/menu_audit}}>Audit</a>
</nav>
<form method="post" action="/signout" class="signout">
<input type="hidden" name="_csrf" value="{{csrf}}">
<span class="who">{{who}}</span>
<button type="submit" id="signout">Sign out</button>
</form>
{{/signedIn}}
{{#halfSignedIn}}
<form method="post" action="/signout" class="signout">
<input type="hidden" name="_csrf" value="{{csrf}}">
<button type="submit" id="signout">Sign out</button>
</form>
{{/halfSignedIn}}
</header>
<main id="main">
{{#notice}}<p class="notice" role="status" id="notice">{{notice}}</p>{{/notice}}
{{#error}}<p class="error" role="alert" id="error">{{error}}</p>{{/error}}
{{$body}}{{/body}}
</main>
</body>
</html>
"""#,

        "signin": #"""
{{<layout}}{{$body}}
<section class="card narrow">
<h1>Sign in to Coffer</h1>
<p class="lead">Coffer is an S3-compatible, versioned object store. On buckets with MFA Delete, a stolen access key
alone cannot erase history: permanent deletes need a code from an MFA device, as on AWS S3.</p>
<form method="post" action="/signin" id="signin-form">
<input type="hidden" name="_csrf" value="{{csrf}}">
<fieldset>
<legend>Sign in as</legend>
<label class="inline"><input type="radio" name="kind" value="root" id="kind-root" {{^iam}}checked{{/iam}}> Root user</label>
<label class="inline"><input type="radio" name="kind" value="iam" id="kind-iam" {{#iam}}checked{{/iam}}> IAM user</label>
</fieldset>
<div class="iam-only" id="iam-fields">
<label for="account">Account ID</label>
<input id="account" name="account" value="{{account}}" inputmode="numeric" autocomplete="off" maxlength="12">
<label for="user">IAM user name</label>
<input id="user" name="user" value="{{user}}" autocomplete="username" maxlength="64">
</div>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="128">
<button type="submit" id="signin">Sign in</button>
</form>
</section>
{{/body}}{{/layout}}
"""#,

        "mfa": #"""
{{<layout}}{{$body}}
<section class="card narrow">
<h1>Multi-factor authentication</h1>
{{#hasKeys}}
<p>Your account is protected by a security key{{#hasTOTP}} or an authenticator{{/hasTOTP}}.</p>
<p><button type="button" id="use-key" data-csrf="{{csrf}}">Use security key</button></p>
<p id="key-status" role="status" aria-live="polite"></p>
{{/hasKeys}}
{{#hasTOTP}}
<p>Enter the 6-digit code your MFA device shows now.</p>
<form method="post" action="/signin/mfa">
<input type="hidden" name="_csrf" value="{{csrf}}">
{{#several}}
<label for="serial">MFA device</label>
<select id="serial" name="serial">
{{#devices}}<option value="{{serial}}">{{name}} ({{serial}})</option>{{/devices}}
</select>
{{/several}}
{{^several}}{{#devices}}<input type="hidden" name="serial" value="{{serial}}"><p>Device: <code>{{serial}}</code></p>{{/devices}}{{/several}}
<label for="code">MFA code</label>
<input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required autofocus>
<button type="submit" id="verify">Verify</button>
</form>
{{/hasTOTP}}
<form method="post" action="/signout"><input type="hidden" name="_csrf" value="{{csrf}}"><button type="submit" class="link">Cancel</button></form>
</section>
{{/body}}{{/layout}}
"""#,

        "password": #"""
{{<layout}}{{$body}}
<section class="card narrow">
<h1>{{#forced}}Choose a new password{{/forced}}{{^forced}}Change password{{/forced}}</h1>
{{#forced}}<p>Your administrator requires you to change your password before you continue.</p>{{/forced}}
<p class="hint">{{rules}}</p>
<form method="post" action="/password">
<input type="hidden" name="_csrf" value="{{csrf}}">
<label for="old">Current password</label>
<input id="old" name="old" type="password" autocomplete="current-password" required maxlength="128">
<label for="new">New password</label>
<input id="new" name="new" type="password" autocomplete="new-password" required maxlength="128">
<label for="confirm">Confirm new password</label>
<input id="confirm" name="confirm" type="password" autocomplete="new-password" required maxlength="128">
<button type="submit" id="change-password">Change password</button>
</form>
</section>
{{/body}}{{/layout}}
"""#,

        "signout": #"""
{{<layout}}{{$body}}
<section class="card narrow">
<h1>Sign out</h1>
<p>Sign out of the Coffer console{{#who}} as {{who}}{{/who}}? Signing out ends this session on the server.</p>
<form method="post" action="/signout">
<input type="hidden" name="_csrf" value="{{csrf}}">
<button type="submit" id="signout-confirm">Sign out</button>
</form>
<p><a href="/">Stay signed in</a></p>
</section>
{{/body}}{{/layout}}
"""#,

        "home": #"""
{{<layout}}{{$body}}
<h1>Home</h1>
<dl class="facts">
<dt>Account ID</dt><dd id="account-id">{{accountID}}</dd>
<dt>Signed in as</dt><dd>{{#arnJoints}}{{.}}<wbr>{{/arnJoints}}</dd>
<dt>Signed in with MFA</dt><dd>{{#mfa}}Yes{{/mfa}}{{^mfa}}No{{/mfa}}</dd>
</dl>
{{#isRoot}}
{{#rootMFA}}<p class="ok" id="root-mfa">The root user has an MFA device.</p>{{/rootMFA}}
{{^rootMFA}}<p class="warning" id="root-mfa">The root user has no MFA device. Anyone with the root password can sign in.
<a href="/security/mfa/new">Assign an MFA device</a> now.</p>{{/rootMFA}}
{{/isRoot}}
{{#needsMFA}}<p class="warning">Your policies require MFA and you have no MFA device. <a href="/security/mfa/new">Assign an MFA device</a>.</p>{{/needsMFA}}
{{#showUsers}}
<h2>Users without MFA</h2>
{{#has_withoutMFA}}<ul id="users-without-mfa">{{#withoutMFA}}<li><a href="/users/{{.}}">{{.}}</a></li>{{/withoutMFA}}</ul>{{/has_withoutMFA}}
{{^withoutMFA}}{{#hasUsers}}<p id="users-mfa">Every IAM user has an MFA device.</p>{{/hasUsers}}{{^hasUsers}}<p id="users-mfa">There are no IAM users yet. <a href="/users">Create one</a> for everyday work instead of using the root user.</p>{{/hasUsers}}{{/withoutMFA}}
{{/showUsers}}
{{/body}}{{/layout}}
"""#,

        "security": #"""
{{<layout}}{{$body}}
<h1>My security credentials</h1>
<section>
<h2>Multi-factor authentication (MFA)</h2>
{{#mayAssign}}<p><a class="button" href="/security/mfa/new" id="assign-mfa">Assign MFA device</a></p>{{/mayAssign}}
{{#has_devices}}
<table id="mfa-devices">
<caption>Your MFA devices</caption>
<thead><tr><th scope="col">Device</th><th scope="col">Type</th><th scope="col">Assigned</th><th scope="col">Resync</th><th scope="col">Remove</th></tr></thead>
<tbody>
{{#devices}}
<tr>
<td><code>{{#serialJoints}}{{.}}<wbr>{{/serialJoints}}</code></td><td>{{kind}}</td><td>{{enabled}}</td>
<td>{{#totp}}<form method="post" action="/security/mfa/resync" class="row">
<input type="hidden" name="_csrf" value="{{csrf}}"><input type="hidden" name="serial" value="{{serial}}">
<label>First code <input name="code1" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required></label>
<label>Second code <input name="code2" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required></label>
<button type="submit">Resync</button></form>{{/totp}}</td>
<td><form method="post" action="/security/mfa/remove" class="row">
<input type="hidden" name="_csrf" value="{{csrf}}"><input type="hidden" name="serial" value="{{serial}}">
<button type="submit" class="danger">Remove…</button></form></td>
</tr>
{{/devices}}
</tbody>
</table>
{{/has_devices}}
{{^devices}}<p id="no-mfa">No MFA device is assigned to you.</p>{{/devices}}
</section>
<section>
<h2>Console password</h2>
<p><a href="/password" id="change-password-link">Change password</a></p>
</section>
<section>
<h2>Access keys</h2>
{{#newKey}}
<div class="secret" id="new-key" role="status"><p>Your new access key. The secret is shown now only: copy it.</p>
<dl><dt>Access key ID</dt><dd><code>{{accessKey}}</code></dd><dt>Secret access key</dt><dd><code>{{secret}}</code></dd></dl></div>
{{/newKey}}
{{#has_keys}}
<table id="access-keys"><caption>Your access keys</caption>
<thead><tr><th scope="col">Access key ID</th><th scope="col">Status</th><th scope="col">Created</th><th scope="col">Actions</th></tr></thead>
<tbody>
{{#keys}}<tr><td><code>{{accessKey}}</code></td><td>{{status}}</td><td>{{created}}</td>
<td class="actions"><form method="post" action="/security/keys/status"><input type="hidden" name="_csrf" value="{{csrf}}">
<input type="hidden" name="key" value="{{accessKey}}"><input type="hidden" name="status" value="{{toggle}}">
<button type="submit">Make {{toggle}}</button></form>
<form method="post" action="/security/keys/delete"><input type="hidden" name="_csrf" value="{{csrf}}">
<input type="hidden" name="key" value="{{accessKey}}"><button type="submit" class="danger">Delete…</button></form></td></tr>{{/keys}}
</tbody></table>
{{/has_keys}}
{{#isRoot}}
{{#rootKey}}<table id="access-keys"><caption>The root user's access key</caption>
<thead><tr><th scope="col">Access key ID</th><th scope="col">Status</th><th scope="col">Where it is set</th></tr></thead>
<tbody><tr><td><code>{{accessKey}}</code></td><td>Active</td><td>The server's configuration</td></tr></tbody></table>{{/rootKey}}
<p class="hint" id="root-key-note">The root user's access key comes from the server's configuration
(<code>COFFER_ROOT_ACCESS_KEY</code> and <code>COFFER_ROOT_SECRET_KEY</code>, or the key generated at the first start),
not from this page. As AWS advises, use an IAM user's keys for everyday work.</p>
{{/isRoot}}
{{#mayCreateKey}}<form method="post" action="/security/keys/create"><input type="hidden" name="_csrf" value="{{csrf}}">
<button type="submit" id="create-key">Create access key</button></form>{{/mayCreateKey}}
</section>
{{/body}}{{/layout}}
"""#,

        "mfa-name": #"""
{{<layout}}{{$body}}
<section class="card">
<h1>Assign MFA device</h1>
<ol class="steps"><li class="current">Name the device</li><li>Scan the QR code</li><li>Enter two codes</li></ol>
<form method="post" action="/security/mfa/new">
<input type="hidden" name="_csrf" value="{{csrf}}">
<label for="device-name">Device name</label>
<input id="device-name" name="name" value="{{name}}" autocomplete="off" spellcheck="false" required maxlength="128" pattern="[A-Za-z0-9+=,.@_\-]+">
<p class="hint">Letters, digits and + = , . @ _ - only.</p>
<fieldset><legend>Device type</legend>
<label class="inline"><input type="radio" name="type" value="app" id="type-app" checked> Authenticator app</label>
<label class="inline"><input type="radio" name="type" value="key" id="type-key"{{#keysNeedName}} disabled{{/keysNeedName}}> Security key or passkey</label>
{{#keysNeedName}}<p class="warning" id="keys-need-name">Browsers allow security keys only on a site name, not on an IP address like this one.
To add a security key, open <a href="{{keysNeedName}}">{{keysNeedName}}</a>.</p>{{/keysNeedName}}
<p class="hint">An authenticator app gives codes: it works for sign-in, MFA Delete and the API. A security key
(FIDO2, WebAuthn) works for console sign-in only, as on AWS.</p>
</fieldset>
<button type="submit" id="next">Next</button>
</form>
</section>
{{/body}}{{/layout}}
"""#,

        "mfa-wizard": #"""
{{<layout}}{{$body}}
<section class="card">
<h1>Assign MFA device</h1>
<ol class="steps"><li>Name the device</li><li class="current">Scan the QR code</li><li class="current">Enter two codes</li></ol>
{{#qr}}
<p>Open your authenticator app and scan this QR code.</p>
<img id="qr" src="data:image/png;base64,{{qr}}" alt="QR code holding the device's secret key" width="{{qrSize}}" height="{{qrSize}}">
<details id="show-secret"><summary>Show secret key</summary><p>Type this key into the app if you cannot scan:
<code id="secret-key">{{seed}}</code></p></details>
{{/qr}}
{{^qr}}<p>Use the entry you added to your authenticator app for <code>{{serial}}</code>.</p>{{/qr}}
<form method="post" action="/security/mfa/enable">
<input type="hidden" name="_csrf" value="{{csrf}}">
<input type="hidden" name="serial" value="{{serial}}">
<label for="code1">MFA code 1</label>
<input id="code1" name="code1" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required>
<label for="code2">MFA code 2 (the next code the app shows)</label>
<input id="code2" name="code2" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required>
{{> step-up}}
<button type="submit" id="add-mfa">Add MFA</button>
</form>
<form method="post" action="/security/mfa/cancel"><input type="hidden" name="_csrf" value="{{csrf}}">
<input type="hidden" name="serial" value="{{serial}}"><button type="submit" class="link">Cancel and start over</button></form>
</section>
{{/body}}{{/layout}}
"""#,

        "key-wizard": #"""
{{<layout}}{{$body}}
<section class="card">
<h1>Assign MFA device</h1>
<ol class="steps"><li>Name the device</li><li class="current">Register the security key</li></ol>
<p>Press the button, then touch your security key (or confirm the passkey) when your browser asks.
The key will be usable for console sign-in; MFA Delete and the API still need an authenticator app or a hardware token.</p>
<form id="key-form" data-csrf="{{csrf}}" data-name="{{name}}">
{{> step-up}}
<button type="submit" id="register-key">Register security key {{name}}</button>
<p id="key-status" role="status" aria-live="polite"></p>
</form>
</section>
{{/body}}{{/layout}}
"""#,

        "users": #"""
{{<layout}}{{$body}}
<h1>Users</h1>
<table id="users">
<caption>IAM users of account {{accountID}}</caption>
<thead><tr><th scope="col">User name</th><th scope="col">Console password</th><th scope="col">MFA</th><th scope="col">Access keys</th><th scope="col">Created</th></tr></thead>
<tbody>
{{#users}}<tr><td><a href="/users/{{name}}">{{name}}</a></td><td>{{password}}</td><td>{{mfa}}</td><td>{{keys}}</td><td>{{created}}</td></tr>{{/users}}
{{^users}}<tr><td colspan="5">No IAM users yet.</td></tr>{{/users}}
</tbody>
</table>
{{#more}}<p><a href="/users?after={{more}}">More users</a></p>{{/more}}
{{#mayCreate}}<section class="card">
<h2>Create user</h2>
<form method="post" action="/users">
<input type="hidden" name="_csrf" value="{{csrf}}">
<label for="new-user">User name</label>
<input id="new-user" name="name" value="{{newName}}" autocomplete="off" spellcheck="false" required maxlength="64" pattern="[A-Za-z0-9+=,.@_\-]+">
<label for="new-password">Console password (optional)</label>
<input id="new-password" name="password" type="password" autocomplete="new-password" maxlength="128" aria-describedby="password-rules">
<p class="hint" id="password-rules">{{passwordRules}}</p>
<label class="inline"><input type="checkbox" name="reset" value="true" id="new-reset"{{#newReset}} checked{{/newReset}}> User must create a new password at next sign-in</label>
<button type="submit" id="create-user">Create user</button>
</form>
</section>{{/mayCreate}}
{{/body}}{{/layout}}
"""#,

        "user": #"""
{{<layout}}{{$body}}
<p><a href="/users">Users</a> / {{name}}</p>
<h1>User {{name}}</h1>
<dl class="facts"><dt>ARN</dt><dd id="user-arn">{{#arnJoints}}{{.}}<wbr>{{/arnJoints}}</dd><dt>Console password</dt><dd>{{password}}</dd><dt>Created</dt><dd>{{created}}</dd></dl>
<section>
<h2>MFA devices</h2>
{{#has_devices}}
<table id="user-devices"><thead><tr><th scope="col">Device</th><th scope="col">Assigned</th>{{#mayDeactivate}}<th scope="col">Action</th>{{/mayDeactivate}}</tr></thead><tbody>
{{#devices}}<tr><td><code>{{#serialJoints}}{{.}}<wbr>{{/serialJoints}}</code></td><td>{{enabled}}</td>{{#mayDeactivate}}<td><form method="post" action="/users/{{name}}/deactivate-mfa">
<input type="hidden" name="_csrf" value="{{csrf}}"><input type="hidden" name="serial" value="{{serial}}">
<button type="submit" class="danger" id="deactivate-{{index}}">Deactivate…</button></form></td>{{/mayDeactivate}}</tr>{{/devices}}
</tbody></table>
{{/has_devices}}
{{^devices}}<p id="no-user-mfa">No MFA device is assigned.</p>{{/devices}}
</section>
<section>
<h2>Permissions policies</h2>
<ul id="attached">{{#attached}}<li>{{name}} {{#mayDetach}}<form method="post" action="/users/{{user}}/detach" class="inline">
<input type="hidden" name="_csrf" value="{{csrf}}"><input type="hidden" name="arn" value="{{arn}}"><button type="submit" class="danger">Detach…</button></form>{{/mayDetach}}</li>{{/attached}}
{{^attached}}<li>None attached.</li>{{/attached}}</ul>
{{#mayAttach}}<form method="post" action="/users/{{name}}/attach" class="row">
<input type="hidden" name="_csrf" value="{{csrf}}">
<label for="policy">Policy</label>
<select id="policy" name="arn">{{#policies}}<option value="{{arn}}">{{name}}</option>{{/policies}}</select>
<button type="submit" id="attach">Attach</button>
</form>{{/mayAttach}}
</section>
{{#showKeys}}<section>
<h2>Access keys</h2>
{{#newKey}}
<div class="secret" id="new-key" role="status"><p>The new access key. The secret is shown now only: copy it and hand it over safely.</p>
<dl><dt>Access key ID</dt><dd><code>{{accessKey}}</code></dd><dt>Secret access key</dt><dd><code id="new-secret">{{secret}}</code></dd></dl></div>
{{/newKey}}
{{#has_keys}}<table id="user-keys"><thead><tr><th scope="col">Access key ID</th><th scope="col">Status</th><th scope="col">Created</th><th scope="col">Last used</th><th scope="col">Actions</th></tr></thead><tbody>
{{#keys}}<tr><td><code>{{accessKey}}</code></td><td>{{status}}</td><td>{{created}}</td><td>{{lastUsed}}</td><td class="actions">
{{#mayUpdateKey}}<form method="post" action="/users/{{name}}/keys/status"><input type="hidden" name="_csrf" value="{{csrf}}">
<input type="hidden" name="key" value="{{accessKey}}"><input type="hidden" name="status" value="{{toggle}}"><button type="submit">Make {{toggle}}</button></form>{{/mayUpdateKey}}
{{#mayDeleteKey}}<form method="post" action="/users/{{name}}/keys/delete"><input type="hidden" name="_csrf" value="{{csrf}}">
<input type="hidden" name="key" value="{{accessKey}}"><button type="submit" class="danger">Delete…</button></form>{{/mayDeleteKey}}</td></tr>{{/keys}}
</tbody></table>{{/has_keys}}
{{^has_keys}}<p id="no-user-keys">No access keys.</p>{{/has_keys}}
{{#mayCreateKey}}<form method="post" action="/users/{{name}}/keys/create"><input type="hidden" name="_csrf" value="{{csrf}}">
<button type="submit" id="create-user-key">Create access key</button></form>{{/mayCreateKey}}
</section>{{/showKeys}}
{{#maySetPassword}}<section>
<h2>Console password</h2>
<form method="post" action="/users/{{name}}/password">
<input type="hidden" name="_csrf" value="{{csrf}}">
<label for="reset-password">New console password</label>
<input id="reset-password" name="password" type="password" autocomplete="new-password" maxlength="128" required>
<label class="inline"><input type="checkbox" name="reset" value="true" checked> Require a new password at next sign-in</label>
<button type="submit">Set password</button>
</form>
</section>{{/maySetPassword}}
{{#mayDelete}}<section>
<h2>Delete user</h2>
<p>Removes the user's console password, access keys, unassigned devices and policies first.</p>
<form method="post" action="/users/{{name}}/delete"><input type="hidden" name="_csrf" value="{{csrf}}">
<label for="confirm-user">To confirm, type the user name <strong>{{name}}</strong></label>
<input id="confirm-user" name="confirm" autocomplete="off" spellcheck="false" required>
<button type="submit" class="danger" id="delete-user">Delete user {{name}}</button></form>
</section>{{/mayDelete}}
{{/body}}{{/layout}}
"""#,

        "buckets": #"""
{{<layout}}{{$body}}
<h1>Buckets</h1>
<table id="buckets">
<thead><tr><th scope="col">Name</th><th scope="col">Versioning</th><th scope="col">MFA Delete</th><th scope="col">Region</th><th scope="col">Created</th></tr></thead>
<tbody>
{{#buckets}}<tr><td><a href="/buckets/{{name}}">{{name}}</a></td><td>{{versioning}}</td><td>{{mfaDelete}}</td><td>{{region}}</td><td>{{created}}</td></tr>{{/buckets}}
{{^buckets}}<tr><td colspan="5">No buckets yet.</td></tr>{{/buckets}}
</tbody>
</table>
{{#mayCreate}}<section class="card">
<h2>Create bucket</h2>
<form method="post" action="/buckets">
<input type="hidden" name="_csrf" value="{{csrf}}">
<label for="bucket-name">Bucket name</label>
<input id="bucket-name" name="name" autocomplete="off" spellcheck="false" required minlength="3" maxlength="63" pattern="[a-z0-9.\-]+">
<p class="hint">3 to 63 lowercase letters, digits, dots and hyphens.</p>
<button type="submit" id="create-bucket">Create bucket</button>
</form>
</section>{{/mayCreate}}
{{/body}}{{/layout}}
"""#,

        "bucket": #"""
{{<layout}}{{$body}}
<p><a href="/buckets">Buckets</a> / {{bucket}}</p>
<h1>Bucket {{bucket}}</h1>
<p><a class="button" href="/buckets/{{bucket}}/objects" id="browse">Browse objects</a></p>
<section class="card">
<h2>Versioning</h2>
<dl class="facts"><dt>Versioning</dt><dd id="versioning-state">{{versioning}}</dd><dt>MFA Delete</dt><dd id="mfa-delete-state">{{mfaDelete}}</dd></dl>
{{#mayVersioning}}<form method="post" action="/buckets/{{bucket}}/versioning">
<input type="hidden" name="_csrf" value="{{csrf}}">
<label for="status">Versioning</label>
<select id="status" name="status">{{#unversioned}}<option value="" selected disabled>Not enabled</option>{{/unversioned}}<option value="Enabled" {{#enabled}}selected{{/enabled}}>Enabled</option><option value="Suspended" {{#suspended}}selected{{/suspended}}>Suspended</option></select>
<label for="mfa-delete">MFA Delete</label>
<select id="mfa-delete" name="mfaDelete"><option value="Disabled" {{^mfaOn}}selected{{/mfaOn}}>Disabled</option><option value="Enabled" {{#mfaOn}}selected{{/mfaOn}}>Enabled</option></select>
<p class="hint">Turning MFA Delete on or off, and changing versioning while it is on, needs a code from one of the root user's MFA devices.</p>
{{> mfa-fields}}
<button type="submit" id="save-versioning">Save versioning</button>
</form>{{/mayVersioning}}
</section>
<section class="card">
<h2>Bucket policy</h2>
{{#mayPolicy}}<form method="post" action="/buckets/{{bucket}}/policy">
<input type="hidden" name="_csrf" value="{{csrf}}">
<label for="policy-text">Policy (JSON)</label>
<textarea id="policy-text" name="policy" rows="14" spellcheck="false" autocomplete="off">{{policy}}</textarea>
<button type="submit" id="save-policy">Save policy</button>
</form>{{/mayPolicy}}
{{^mayPolicy}}{{#hasPolicy}}<pre id="policy-view">{{policy}}</pre>{{/hasPolicy}}{{^hasPolicy}}<p>No bucket policy.</p>{{/hasPolicy}}{{/mayPolicy}}
{{#mayDeletePolicy}}{{#hasPolicy}}<form method="post" action="/buckets/{{bucket}}/policy/delete"><input type="hidden" name="_csrf" value="{{csrf}}">
<button type="submit" class="danger">Delete policy</button></form>{{/hasPolicy}}{{/mayDeletePolicy}}
</section>
{{#mayEmpty}}<section class="card" id="empty-bucket-section">
<h2>Empty bucket</h2>
<p>Deletes every version and delete marker for good, {{#mfaOnNow}}one MFA code per 1,000 (MFA Delete is on), {{/mfaOnNow}}after you type <strong>permanently delete</strong>.</p>
<p><a class="button danger" href="/buckets/{{bucket}}/empty" id="empty-link">Empty bucket…</a></p>
</section>{{/mayEmpty}}
{{#mayDeleteBucket}}<section class="card" id="delete-bucket-section">
<h2>Delete bucket</h2>
<p>A bucket is deleted only when it holds no versions and no delete markers; unfinished uploads go with it.</p>
<form method="post" action="/buckets/{{bucket}}/remove">
<input type="hidden" name="_csrf" value="{{csrf}}">
<label for="confirm-bucket">To confirm, type the bucket's name <strong>{{bucket}}</strong></label>
<input id="confirm-bucket" name="confirm" autocomplete="off" spellcheck="false" required>
<button type="submit" class="danger" id="delete-bucket">Delete bucket {{bucket}}</button>
</form>
</section>{{/mayDeleteBucket}}
{{/body}}{{/layout}}
"""#,

        "empty-bucket": #"""
{{<layout}}{{$body}}
<p><a href="/buckets">Buckets</a> / <a href="/buckets/{{bucket}}">{{bucket}}</a> / empty</p>
<h1>Empty bucket {{bucket}}</h1>
{{#isEmpty}}<p id="empty-state">The bucket holds no versions and no delete markers. <a href="/buckets/{{bucket}}#delete-bucket-section">Delete the bucket</a>.</p>{{/isEmpty}}
{{^isEmpty}}
<p id="empty-count">The bucket holds {{count}}{{#more}} or more{{/more}} versions and delete markers. Emptying deletes every one of them for good: no delete marker is left, nothing can be restored.</p>
{{#mfaDeleteOn}}<p class="warning" id="per-batch">MFA Delete is on: as with the API, each request deletes at most {{batch}} versions and needs its own code (a code works once).
{{#askCode}}Emptying this bucket takes about {{codesNeeded}}{{#more}} or more{{/more}}: after each {{batch}}, type the next code your device shows.{{/askCode}}</p>{{/mfaDeleteOn}}
{{#rootOnly}}<p class="warning" id="root-only">MFA Delete is on for this bucket: only the root user, with a code from its MFA device, can delete versions for good.</p>{{/rootOnly}}
{{^rootOnly}}<form method="post" action="/buckets/{{bucket}}/empty" id="empty-form">
<input type="hidden" name="_csrf" value="{{csrf}}">
{{#askCode}}
{{#keysOnly}}<p class="warning" id="keys-only">Your MFA devices are security keys. As on AWS, a security key cannot be used for MFA Delete: assign an authenticator app or a hardware TOTP token for that.</p>{{/keysOnly}}
<fieldset class="mfa"><legend>MFA code for the next {{batch}}</legend>
{{#has_rootDevices}}<label for="mfa-serial-empty">MFA device</label>
<select id="mfa-serial-empty" name="serial">{{#rootDevices}}<option value="{{serial}}">{{serial}}</option>{{/rootDevices}}</select>{{/has_rootDevices}}
<label for="mfa-code-empty">MFA code</label>
<input id="mfa-code-empty" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required>
</fieldset>
{{/askCode}}
{{#confirmed}}<input type="hidden" name="confirm" value="{{confirmWord}}">{{/confirmed}}
{{^confirmed}}<label for="confirm-empty">To confirm, type <strong>{{confirmWord}}</strong></label>
<input id="confirm-empty" name="confirm" autocomplete="off" spellcheck="false" required>{{/confirmed}}
<button type="submit" class="danger" id="empty-button">{{#confirmed}}Go on emptying{{/confirmed}}{{^confirmed}}Empty bucket{{/confirmed}}</button>
</form>{{/rootOnly}}
{{/isEmpty}}
<p><a href="/buckets/{{bucket}}" id="empty-back">Back to the bucket</a></p>
{{/body}}{{/layout}}
"""#,

        "object": #"""
{{<layout}}{{$body}}
<p><a href="/buckets">Buckets</a> / <a href="/buckets/{{bucket}}">{{bucket}}</a> /
<a href="/buckets/{{bucket}}/objects?prefix={{folder}}">objects</a></p>
<h1 id="object-key">{{key}}</h1>
<section class="card">
<h2>Object overview</h2>
<dl class="facts" id="object-facts">
<dt>S3 URI</dt><dd><code id="s3-uri">{{uri}}</code> <button type="button" class="link" id="copy-uri" data-copy="{{uri}}">Copy S3 URI</button></dd>
<dt>Size</dt><dd>{{size}} ({{bytes}} bytes)</dd>
<dt>ETag</dt><dd><code id="etag">{{etag}}</code></dd>
<dt>Last modified</dt><dd>{{modified}}</dd>
<dt>Type</dt><dd>{{contentType}}</dd>
{{#versionID}}<dt>Version ID</dt><dd><code id="version-id">{{versionID}}</code></dd>{{/versionID}}
</dl>
{{#readable}}<p><a class="button" href="/buckets/{{bucket}}/download?key={{keyQuery}}{{#versionQuery}}&amp;versionId={{versionQuery}}{{/versionQuery}}" id="download">Download</a></p>{{/readable}}
{{#hasMetadata}}<h3>Metadata</h3><table id="metadata"><thead><tr><th scope="col">x-amz-meta-</th><th scope="col">Value</th></tr></thead><tbody>
{{#metadata}}<tr><td>{{name}}</td><td>{{value}}</td></tr>{{/metadata}}</tbody></table>{{/hasMetadata}}
</section>
{{#image}}<section class="card"><h2>Preview</h2>
<img id="image-preview" src="/buckets/{{bucket}}/preview?key={{keyQuery}}{{#versionQuery}}&amp;versionId={{versionQuery}}{{/versionQuery}}" alt="Preview of {{key}}">
</section>{{/image}}
{{#text}}<section class="card"><h2>Preview</h2>
<pre id="text-preview">{{text}}</pre>
{{#textCut}}<p class="hint">The first 16 KiB. <a href="/buckets/{{bucket}}/preview?key={{keyQuery}}{{#versionQuery}}&amp;versionId={{versionQuery}}{{/versionQuery}}">The whole text</a>.</p>{{/textCut}}
</section>{{/text}}
{{#mayPresign}}<section class="card" id="presign-section">
<h2>Share with a presigned link</h2>
{{#link}}<div class="secret" id="presigned" role="status"><p>Anyone with this link can download this {{#versionID}}version of the {{/versionID}}object until {{until}}.
It is signed with temporary credentials of your console session (<code>{{accessKey}}</code>), not with a long-term key.</p>
<p><a id="presigned-url" href="{{url}}">{{url}}</a></p>
<button type="button" id="copy-link" data-copy="{{url}}">Copy link</button></div>{{/link}}
<form method="post" action="/buckets/{{bucket}}/presign" class="row">
<input type="hidden" name="_csrf" value="{{csrf}}"><input type="hidden" name="key" value="{{key}}">
<input type="hidden" name="versionId" value="{{versionQuery}}">
<label for="presign-minutes">Works for</label>
<select id="presign-minutes" name="minutes">{{#presignChoices}}<option value="{{minutes}}">{{words}}</option>{{/presignChoices}}</select>
<button type="submit" id="presign">Create presigned link</button>
</form>
<p class="hint">At most 12 hours, and never past the end of your console session.</p>
</section>{{/mayPresign}}
{{#hasVersions}}<section class="card"><h2>Versions</h2>
<table id="object-versions"><thead><tr><th scope="col">Version ID</th><th scope="col">Type</th><th scope="col">Size</th><th scope="col">Last modified</th></tr></thead><tbody>
{{#versions}}<tr{{#current}} aria-current="true" class="current"{{/current}}><td>{{^marker}}<a href="/buckets/{{bucket}}/object?key={{keyQuery}}&amp;versionId={{versionQuery}}"><code>{{versionID}}</code></a>{{/marker}}{{#marker}}<code>{{versionID}}</code>{{/marker}}{{#latest}} <span class="tag">latest</span>{{/latest}}</td>
<td>{{#marker}}Delete marker{{/marker}}{{^marker}}Version{{/marker}}</td><td>{{size}}</td><td>{{modified}}</td></tr>{{/versions}}
</tbody></table></section>{{/hasVersions}}
{{/body}}{{/layout}}
"""#,

        "groups": #"""
{{<layout}}{{$body}}
<h1>User groups</h1>
<table id="groups"><thead><tr><th scope="col">Group name</th><th scope="col">Created</th></tr></thead><tbody>
{{#groups}}<tr><td><a href="/groups/{{name}}">{{name}}</a></td><td>{{created}}</td></tr>{{/groups}}
{{^groups}}<tr><td colspan="2" id="no-groups">No groups yet.</td></tr>{{/groups}}
</tbody></table>
{{#more}}<p><a href="/groups?after={{more}}">More groups</a></p>{{/more}}
{{#mayCreate}}<section class="card"><h2>Create group</h2>
<form method="post" action="/groups"><input type="hidden" name="_csrf" value="{{csrf}}">
<label for="group-name">Group name</label>
<input id="group-name" name="name" value="{{newName}}" required maxlength="128" autocomplete="off" spellcheck="false" pattern="[A-Za-z0-9+=,.@_\-]+">
<button type="submit" id="create-group">Create group</button></form></section>{{/mayCreate}}
{{/body}}{{/layout}}
"""#,

        "group": #"""
{{<layout}}{{$body}}
<p><a href="/groups">User groups</a> / {{name}}</p>
<h1>Group {{name}}</h1>
<dl class="facts"><dt>ARN</dt><dd>{{#arnJoints}}{{.}}<wbr>{{/arnJoints}}</dd><dt>Created</dt><dd>{{created}}</dd></dl>
<section><h2>Users in this group</h2>
<ul id="members">{{#members}}<li>{{#mayEdit}}<label class="inline"><input type="checkbox" form="remove-form" name="v" value="{{.}}"> {{.}}</label>{{/mayEdit}}{{^mayEdit}}{{.}}{{/mayEdit}}</li>{{/members}}
{{^members}}<li id="no-members">No users in this group.</li>{{/members}}</ul>
{{#mayEdit}}{{#hasMembers}}<form method="post" action="/groups/{{name}}/members" id="remove-form"><input type="hidden" name="_csrf" value="{{csrf}}">
<input type="hidden" name="change" value="remove"><button type="submit" class="danger" id="remove-members">Remove selected users</button></form>{{/hasMembers}}
{{#hasOthers}}<form method="post" action="/groups/{{name}}/members" class="row"><input type="hidden" name="_csrf" value="{{csrf}}">
<input type="hidden" name="change" value="add"><label for="add-user">Add user</label>
<select id="add-user" name="user">{{#others}}<option value="{{.}}">{{.}}</option>{{/others}}</select>
<button type="submit" id="add-member">Add to group</button></form>{{/hasOthers}}{{/mayEdit}}
</section>
<section><h2>Permissions policies</h2>
<ul id="group-attached">{{#attached}}<li>{{name}} {{#mayDetach}}<form method="post" action="/groups/{{group}}/detach" class="inline">
<input type="hidden" name="_csrf" value="{{csrf}}"><input type="hidden" name="arn" value="{{arn}}"><button type="submit" class="danger">Detach…</button></form>{{/mayDetach}}</li>{{/attached}}
{{^attached}}<li>None attached.</li>{{/attached}}</ul>
{{#mayAttach}}<form method="post" action="/groups/{{name}}/attach" class="row"><input type="hidden" name="_csrf" value="{{csrf}}">
<label for="group-policy">Policy</label>
<select id="group-policy" name="arn">{{#policies}}<option value="{{arn}}">{{name}}</option>{{/policies}}</select>
<button type="submit" id="group-attach">Attach</button></form>{{/mayAttach}}
</section>
{{#mayDelete}}<section><h2>Delete group</h2>
<p>Removes its users from it and detaches its policies first (the users stay).</p>
<form method="post" action="/groups/{{name}}/delete"><input type="hidden" name="_csrf" value="{{csrf}}">
<label for="confirm-group">To confirm, type the group name <strong>{{name}}</strong></label>
<input id="confirm-group" name="confirm" autocomplete="off" spellcheck="false" required>
<button type="submit" class="danger" id="delete-group">Delete group {{name}}</button></form></section>{{/mayDelete}}
{{/body}}{{/layout}}
"""#,

        "policies": #"""
{{<layout}}{{$body}}
<h1>Policies</h1>
{{#mayCreate}}<p><a class="button" href="/policies/new" id="create-policy">Create policy</a></p>{{/mayCreate}}
<table id="policies"><thead><tr><th scope="col">Policy name</th><th scope="col">Type</th><th scope="col">Attached to</th><th scope="col">Updated</th></tr></thead><tbody>
{{#policies}}<tr><td><a href="/policies/view?arn={{arnQuery}}">{{name}}</a></td><td>{{type}}</td><td>{{attached}}</td><td>{{updated}}</td></tr>{{/policies}}
</tbody></table>
{{/body}}{{/layout}}
"""#,

        "policy-editor": #"""
{{<layout}}{{$body}}
<p><a href="/policies">Policies</a> / {{#isNew}}new{{/isNew}}{{^isNew}}{{name}}{{/isNew}}</p>
<h1>{{title}}</h1>
{{^isNew}}<p class="state">{{#isAWS}}AWS managed, read-only · {{/isAWS}}Version {{version}} · attached to {{attached}}</p>{{/isNew}}
<div class="editor-layout">
<form method="post" action="/policies/editor" id="policy-form" class="editor">
<input type="hidden" name="_csrf" value="{{csrf}}"><input type="hidden" name="arn" value="{{arn}}">
{{#isNew}}<label for="policy-name">Policy name</label>
<input id="policy-name" name="name" value="{{name}}" maxlength="128" autocomplete="off" spellcheck="false">
<label for="policy-description">Description</label>
<input id="policy-description" name="description" value="{{description}}" maxlength="1000" autocomplete="off">
<p class="hint" id="templates">AWS's MFA examples: {{#templates}}<a href="/policies/new?template={{id}}" id="template-{{id}}">{{title}}</a> · {{/templates}}</p>{{/isNew}}
<label for="policy-json">Policy document (JSON)</label>
<textarea id="policy-json" name="policy" rows="24" spellcheck="false" autocomplete="off"{{^mayEdit}} readonly{{/mayEdit}}>{{policy}}</textarea>
{{#mayEdit}}<button type="submit" name="do" value="save" id="save-policy-doc">{{#isNew}}Create policy{{/isNew}}{{^isNew}}Save as the new default version{{/isNew}}</button>
{{^isNew}}<p class="hint">A policy keeps five versions: saving a sixth removes the oldest one not in use.</p>{{/isNew}}{{/mayEdit}}
<fieldset class="simulator" id="simulator"><legend>Simulate this text (before saving)</legend>
<label for="sim-action">Action</label><input id="sim-action" name="action" value="{{action}}" autocomplete="off" spellcheck="false" maxlength="128">
<label for="sim-resource">Resource</label><input id="sim-resource" name="resource" value="{{resource}}" autocomplete="off" spellcheck="false" maxlength="2048">
<label for="sim-mfa">Signed with</label>
<select id="sim-mfa" name="mfa">{{#mfaModes}}<option value="{{value}}"{{#selected}} selected{{/selected}}>{{words}}</option>{{/mfaModes}}</select>
<label for="sim-age">Seconds since the MFA sign-in</label><input id="sim-age" name="mfaAge" value="{{mfaAge}}" inputmode="numeric" maxlength="6" autocomplete="off">
<button type="submit" name="do" value="simulate" id="simulate">Simulate</button>
{{#simulation}}<div id="simulation" class="{{#allowed}}ok{{/allowed}}{{^allowed}}error{{/allowed}}" role="status">
<p><strong id="decision">{{decision}}</strong> — {{for}}</p>{{#hasMatched}}<p>Matched: {{#matched}}<span class="match">{{.}}</span>; {{/matched}}</p>{{/hasMatched}}</div>{{/simulation}}
</fieldset>
</form>
</div>
{{#mayDelete}}<section class="card"><h2>Delete policy</h2>
<form method="post" action="/policies/delete"><input type="hidden" name="_csrf" value="{{csrf}}"><input type="hidden" name="arn" value="{{arn}}">
<label for="confirm-policy">To confirm, type the policy name <strong>{{name}}</strong> (it must be detached from everyone first)</label>
<input id="confirm-policy" name="confirm" autocomplete="off" spellcheck="false" required>
<button type="submit" class="danger" id="delete-policy">Delete policy {{name}}</button></form></section>{{/mayDelete}}
{{/body}}{{/layout}}
"""#,

        "step-up": #"""
{{#confirmPassword}}
<fieldset class="mfa"><legend>Confirm it is you</legend>
<p class="hint">The root user's MFA devices change only with a fresh proof: your MFA devices are security keys, so type the root password.</p>
<label for="step-password">Root password</label>
<input id="step-password" name="stepPassword" type="password" autocomplete="current-password" maxlength="128">
</fieldset>
{{/confirmPassword}}
{{#confirm}}
<fieldset class="mfa"><legend>Confirm with a device you already have</legend>
<p class="hint">The root user's MFA devices change only with a code from one of its current devices.</p>
<label for="step-serial">Current MFA device</label>
<select id="step-serial" name="stepSerial">{{#rootDevices}}<option value="{{serial}}">{{serial}}</option>{{/rootDevices}}</select>
<label for="step-code">Its current code</label>
<input id="step-code" name="stepCode" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required>
</fieldset>
{{/confirm}}
"""#,

        "mfa-fields": #"""
{{#keysOnly}}<p class="warning" id="keys-only">Your MFA devices are security keys. As on AWS, a security key cannot be used for MFA Delete: assign an authenticator app or a hardware TOTP token for that.</p>{{/keysOnly}}
{{#has_rootDevices}}
<fieldset class="mfa"><legend>MFA</legend>
<label for="mfa-serial-{{formID}}">MFA device</label>
<select id="mfa-serial-{{formID}}" name="serial">{{#rootDevices}}<option value="{{serial}}">{{serial}}</option>{{/rootDevices}}</select>
<label for="mfa-code-{{formID}}">MFA code</label>
<input id="mfa-code-{{formID}}" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6">
</fieldset>
{{/has_rootDevices}}
"""#,

        "objects": #"""
{{<layout}}{{$body}}
<p><a href="/buckets">Buckets</a> / <a href="/buckets/{{bucket}}">{{bucket}}</a> /
<a href="/buckets/{{bucket}}/objects{{#versions}}?versions=1{{/versions}}">objects</a>
{{#crumbs}} / <a href="/buckets/{{bucket}}/objects?prefix={{prefix}}{{#versions}}&amp;versions=1{{/versions}}">{{name}}</a>{{/crumbs}}</p>
<h1>{{bucket}}{{#prefix}} / {{prefix}}{{/prefix}}</h1>
<p class="state">Versioning: {{versioning}} · MFA Delete: {{mfaDelete}}</p>
<form method="get" action="/buckets/{{bucket}}/objects" class="row" id="find-form" role="search">
<input type="hidden" name="prefix" value="{{prefix}}">{{#versions}}<input type="hidden" name="versions" value="1">{{/versions}}
<label for="find">Find objects by prefix{{#prefix}} in {{prefix}}{{/prefix}}</label>
<input id="find" name="find" value="{{find}}" type="search" autocomplete="off" spellcheck="false" maxlength="1024">
<button type="submit" id="find-button">Find</button>
</form>
<p>{{#versions}}<a href="/buckets/{{bucket}}/objects?prefix={{prefixQuery}}" id="hide-versions">Hide versions</a>{{/versions}}
{{^versions}}<a href="/buckets/{{bucket}}/objects?prefix={{prefixQuery}}&amp;versions=1" id="show-versions">Show versions</a>{{/versions}}</p>
{{#mayUpload}}<section class="card" id="upload-card">
<h2>Upload</h2>
<form id="upload" data-bucket="{{bucket}}" data-csrf="{{csrf}}">
<div id="drop-zone" class="drop"><label for="upload-file">Files (or drop them here)</label>
<input type="file" id="upload-file" name="file" multiple required></div>
<label for="upload-folder">Folder</label>
<input id="upload-folder" name="folder" value="{{prefix}}" autocomplete="off" spellcheck="false" maxlength="1024" placeholder="(the top of the bucket)">
<label for="upload-key">Object key (one file only; empty: the folder and the file's name)</label>
<input id="upload-key" name="key" autocomplete="off" spellcheck="false" maxlength="1024">
<button type="submit" id="upload-button">Upload</button>
<progress id="upload-progress" max="100" value="0" aria-label="Upload progress, all files"></progress>
<span id="upload-status" role="status" aria-live="polite"></span>
<ul id="upload-list" class="uploads"></ul>
</form>
<form method="post" action="/buckets/{{bucket}}/folders" class="row" id="folder-form">
<input type="hidden" name="_csrf" value="{{csrf}}"><input type="hidden" name="back" value="{{prefix}}">
<label for="folder-name">New folder{{#prefix}} in {{prefix}}{{/prefix}}</label>
<input id="folder-name" name="name" required maxlength="255" autocomplete="off" spellcheck="false">
<button type="submit" id="create-folder">Create folder</button>
</form>
</section>{{/mayUpload}}
<form method="post" action="/buckets/{{bucket}}/delete" id="delete-form">
<input type="hidden" name="_csrf" value="{{csrf}}"><input type="hidden" name="back" value="{{prefix}}">
{{#versions}}<input type="hidden" name="versions" value="1">{{/versions}}
<table id="objects">
<caption>{{#versions}}Versions and delete markers{{/versions}}{{^versions}}Objects{{/versions}}</caption>
<thead><tr><th scope="col"><span class="visually-hidden">Select</span></th><th scope="col">Name</th>{{#versions}}<th scope="col">Version ID</th><th scope="col">Type</th>{{/versions}}<th scope="col">Size</th><th scope="col">Last modified</th><th scope="col">Download</th></tr></thead>
<tbody>
{{#folders}}<tr class="folder"><td></td><td><a href="/buckets/{{bucket}}/objects?prefix={{query}}{{#versions}}&amp;versions=1{{/versions}}">{{name}}</a></td>{{#versions}}<td></td><td>Folder</td>{{/versions}}<td></td><td></td><td></td></tr>{{/folders}}
{{#rows}}<tr{{#marker}} class="marker"{{/marker}}><td>{{#mayDelete}}<input type="checkbox" name="v" value="{{value}}"{{#checked}} checked{{/checked}} aria-label="Select {{name}} {{versionID}}">{{/mayDelete}}</td><td>{{^marker}}<a href="/buckets/{{bucket}}/object?key={{keyQuery}}{{#versionID}}&amp;versionId={{versionQuery}}{{/versionID}}">{{name}}</a>{{/marker}}{{#marker}}{{name}}{{/marker}}{{#latest}} <span class="tag">latest</span>{{/latest}}</td>{{#versionID}}<td><code>{{versionID}}</code></td><td>{{type}}</td>{{/versionID}}<td>{{size}}</td><td>{{modified}}</td><td>{{^marker}}<a href="/buckets/{{bucket}}/download?key={{keyQuery}}{{#versionID}}&amp;versionId={{versionQuery}}{{/versionID}}">Download</a>{{/marker}}</td></tr>
{{/rows}}
{{^rows}}{{^folders}}<tr><td colspan="7" id="empty">{{#hiddenByMarkers}}Delete markers hide every object here. Their versions are kept: <a href="/buckets/{{bucket}}/objects?prefix={{prefixQuery}}&amp;versions=1">Show versions</a>.{{/hiddenByMarkers}}{{^hiddenByMarkers}}Nothing here yet.{{/hiddenByMarkers}}</td></tr>{{/folders}}{{/rows}}
</tbody>
</table>
{{#mayDelete}}{{#hasRows}}
{{#versions}}
{{#askCode}}
{{#keysOnly}}<p class="warning" id="keys-only">Your MFA devices are security keys. As on AWS, a security key cannot be used for MFA Delete: assign an authenticator app or a hardware TOTP token for that.</p>{{/keysOnly}}
<fieldset class="mfa"><legend>MFA Delete is on: a permanent delete needs a code</legend>
{{#has_rootDevices}}<label for="mfa-serial-delete">MFA device</label>
<select id="mfa-serial-delete" name="serial">{{#rootDevices}}<option value="{{serial}}">{{serial}}</option>{{/rootDevices}}</select>{{/has_rootDevices}}
<label for="mfa-code-delete">MFA code</label>
<input id="mfa-code-delete" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6">
</fieldset>
{{/askCode}}
{{#rootOnly}}<p class="warning" id="root-only">MFA Delete is on for this bucket: only the root user, with a code from its MFA device, can delete versions for good.</p>{{/rootOnly}}
<p class="warning">A permanent delete cannot be undone: the selected versions and delete markers are gone for good.</p>
<label for="confirm-delete">To confirm, type <strong>{{confirmWord}}</strong></label>
<input id="confirm-delete" name="confirm" autocomplete="off" spellcheck="false" required>
<button type="submit" class="danger" id="delete-versions">Permanently delete selected versions</button>
{{/versions}}
{{^versions}}<p class="hint">On a versioned bucket a delete adds a delete marker; the versions stay, under Show versions.</p>
<label for="confirm-delete">To confirm, type <strong>{{confirmWord}}</strong></label>
<input id="confirm-delete" name="confirm" autocomplete="off" spellcheck="false" required>
<button type="submit" class="danger" id="delete-objects">Delete selected (adds delete markers)</button>{{/versions}}
{{/hasRows}}{{/mayDelete}}
</form>
<nav class="paging" aria-label="Pages">{{#range}}<span id="page-range">{{range}}</span>{{/range}}
{{#firstPage}}<a href="{{firstPage}}" id="first-page">First page</a>{{/firstPage}}
{{#previous}}<a href="{{previous}}" id="previous-page">Previous page</a>{{/previous}}
{{#next}}<a href="{{next}}" id="next-page">Next page</a>{{/next}}</nav>
{{/body}}{{/layout}}
"""#,

        "audit": #"""
{{<layout}}{{$body}}
<h1>Audit</h1>
<form method="get" action="/audit" class="row">
<label for="audit-user">User</label>
<input id="audit-user" name="user" value="{{user}}" autocomplete="off" spellcheck="false" placeholder="root or a user name" maxlength="64">
<label for="audit-outcome">Outcome</label>
<select id="audit-outcome" name="outcome"><option value="">Any</option>{{#outcomes}}<option value="{{value}}" {{#selected}}selected{{/selected}}>{{words}}</option>{{/outcomes}}</select>
<button type="submit" id="filter">Filter</button>
</form>
<table id="audit">
<colgroup><col class="time"><col class="event"><col class="outcome"><col class="who"><col class="device"><col class="source"><col class="detail"></colgroup>
<thead><tr><th scope="col">Time (UTC)</th><th scope="col">What happened</th><th scope="col">Outcome</th><th scope="col">Who</th><th scope="col">MFA device</th><th scope="col">From</th><th scope="col">Detail</th></tr></thead>
<tbody>
{{#entries}}<tr class="{{outcome}}"><td>{{time}}</td><td>{{event}}<br><small class="api">{{api}}</small></td><td>{{outcomeWords}}</td><td title="{{principalArn}}">{{principal}}</td><td>{{#serialJoints}}{{.}}<wbr>{{/serialJoints}}</td><td>{{source}}</td><td>{{detail}}</td></tr>{{/entries}}
{{^entries}}<tr><td colspan="7">No events.</td></tr>{{/entries}}
</tbody>
</table>
{{#older}}<p><a href="{{older}}" id="older">Older events</a></p>{{/older}}
{{/body}}{{/layout}}
"""#,

        "confirm": #"""
{{<layout}}{{$body}}
<section class="card narrow" id="confirmation">
<h1>{{heading}}</h1>
<p>{{text}}</p>
{{#warnings}}<p class="warning">{{.}}</p>{{/warnings}}
<form method="post" action="{{action}}">
<input type="hidden" name="_csrf" value="{{csrf}}">
{{#fields}}<input type="hidden" name="{{name}}" value="{{value}}">{{/fields}}
{{#askCode}}<label for="confirm-code">Code from this device, shown now</label>
<input id="confirm-code" name="code" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9]{6}" maxlength="6" required>{{/askCode}}
{{> step-up}}
{{#word}}<label for="confirm-word">To confirm, type <strong>{{word}}</strong></label>
<input id="confirm-word" name="confirm" autocomplete="off" spellcheck="false" required>{{/word}}
{{^word}}<input type="hidden" name="confirm" value="yes">{{/word}}
<button type="submit" class="{{buttonClass}}" id="confirm-button">{{button}}</button>
</form>
<p><a href="{{back}}" id="confirm-cancel">Cancel</a></p>
</section>
{{/body}}{{/layout}}
"""#,

        "message": #"""
{{<layout}}{{$body}}
<section class="card narrow"><h1>{{heading}}</h1><p>{{text}}</p>{{#link}}<p><a href="{{link}}">{{linkText}}</a></p>{{/link}}</section>
{{/body}}{{/layout}}
"""#,
    ]

    static let css = #"""
:root { --ink: #16191f; --muted: #5f6b7a; --line: #d5dbdb; --accent: #0972d3; --bad: #d91515; --warn: #8d6605; --good: #037f0c; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: #f2f3f3; }
a { color: var(--accent); }
.skip { position: absolute; left: -999px; }
.skip:focus { left: 8px; top: 8px; background: #fff; padding: 4px; }
header.top { display: flex; align-items: center; gap: 24px; background: #232f3e; color: #fff; padding: 8px 24px; flex-wrap: wrap; }
header.top a { color: #fff; text-decoration: none; }
header.top nav { display: flex; gap: 18px; flex: 1; }
header.top nav a:hover, header.top nav a:focus { text-decoration: underline; }
.brand { font-weight: 700; font-size: 18px; }
.signout { display: flex; align-items: center; gap: 8px; margin: 0; }
nav a[aria-current="page"] { font-weight: 600; text-decoration: underline; text-underline-offset: 4px; }
.who { color: #d1d5db; font-size: 13px; }
main { max-width: 1150px; margin: 24px auto; padding: 0 24px; }
h1 { font-size: 24px; margin: 0 0 16px; }
h2 { font-size: 18px; margin: 24px 0 8px; }
.card { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 16px 24px; margin: 16px 0; }
.narrow { max-width: 460px; margin: 48px auto; }
.lead { color: var(--muted); }
label { display: block; margin: 10px 0 4px; font-weight: 600; }
label.inline { display: inline-flex; gap: 6px; font-weight: normal; margin-right: 16px; }
input, select, textarea { font: inherit; padding: 6px 8px; border: 1px solid #8c8c94; border-radius: 4px; max-width: 100%; }
input:not([type]), input[type=password], input[name=code], textarea { width: 100%; }
.row input, .row select { width: auto; }
textarea { font-family: ui-monospace, monospace; font-size: 13px; }
button, .button { display: inline-block; font: inherit; font-weight: 600; padding: 6px 16px; margin-top: 12px; border-radius: 16px; border: 1px solid var(--accent); background: var(--accent); color: #fff; cursor: pointer; text-decoration: none; }
button.danger, .button.danger { background: #fff; color: var(--bad); border-color: var(--bad); }
button.link { background: none; border: none; color: var(--accent); padding: 0; text-decoration: underline; }
header.top button { margin: 0; padding: 2px 12px; background: transparent; border-color: #fff; }
:focus-visible { outline: 2px solid #ff9900; outline-offset: 2px; }
table { width: 100%; border-collapse: collapse; background: #fff; border: 1px solid var(--line); margin: 8px 0; font-size: 14px; }
caption { text-align: left; font-weight: 600; padding: 6px 0; }
th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
td form { display: inline-flex; gap: 6px; align-items: center; flex-wrap: wrap; margin: 0; }
td form button { margin-top: 0; }
td form label { margin: 0; font-weight: normal; }
td form input { width: 8em; }
td form input[name=code] { width: 7.5em; }
td form select { max-width: 15em; font-size: 13px; }
tr.marker td { color: var(--muted); font-style: italic; }
.tag { font-size: 11px; background: #e9ebed; border-radius: 8px; padding: 1px 6px; }
code { font-family: ui-monospace, monospace; font-size: 13px; word-break: break-all; }
.notice, .ok { border-left: 4px solid var(--good); background: #f2fcf3; padding: 8px 12px; }
.error { border-left: 4px solid var(--bad); background: #fff7f7; padding: 8px 12px; }
.warning { border-left: 4px solid var(--warn); background: #fffce9; padding: 8px 12px; }
.hint, .state { color: var(--muted); font-size: 13px; }
.facts { display: grid; grid-template-columns: max-content 1fr; gap: 4px 16px; }
.facts dt { font-weight: 600; }
.facts dd { margin: 0; }
.steps { display: flex; gap: 24px; padding: 0; list-style: none; color: var(--muted); }
.steps .current { color: var(--ink); font-weight: 600; }
#policy-json { min-height: 24em; }
fieldset.simulator { background: #fff; }
@media (min-width: 1000px) {
  form.editor { display: grid; grid-template-columns: 3fr 2fr; column-gap: 24px; }
  form.editor > * { grid-column: 1; }
  form.editor > fieldset.simulator { grid-column: 2; grid-row: 1 / span 12; align-self: start; margin-top: 0; }
}
nav.paging { display: flex; gap: 16px; align-items: center; margin: 8px 0; }
#image-preview { max-width: 100%; max-height: 480px; border: 1px solid var(--line); }
#text-preview { max-height: 480px; white-space: pre-wrap; }
#presigned-url { overflow-wrap: anywhere; font-family: ui-monospace, monospace; font-size: 12px; }
#object-versions tr.current td { font-weight: 600; }
#qr { image-rendering: pixelated; border: 1px solid var(--line); margin: 8px 0; }
.secret { border: 1px solid var(--warn); background: #fffce9; padding: 8px 16px; border-radius: 8px; }
progress { width: 240px; vertical-align: middle; margin-left: 12px; }
fieldset { border: 1px solid var(--line); border-radius: 6px; margin: 12px 0; }
body.signin-root .iam-only { display: none; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
fieldset.mfa input[name=code] { width: 10em; }
.drop { border: 2px dashed var(--line); border-radius: 8px; padding: 12px; }
.drop.over { border-color: var(--accent); background: #f0f7ff; }
ul.uploads { list-style: none; padding: 0; }
ul.uploads li { display: flex; gap: 12px; align-items: center; flex-wrap: wrap; padding: 2px 0; }
ul.uploads li.failed .outcome { color: var(--bad); }
ul.uploads li.done .outcome { color: var(--good); }
/* Long names wrap at their own joints (after ':' and '/'), and only past a line's end anywhere else:
   never in the middle of an account number while a joint is free. */
code, td, dd { overflow-wrap: anywhere; }
code { word-break: normal; }
#audit { table-layout: fixed; font-size: 13px; }
#audit col.time { width: 10.5em; } #audit col.event { width: 15em; } #audit col.outcome { width: 7.5em; }
#audit col.who { width: 8em; } #audit col.device { width: 14em; } #audit col.source { width: 8em; }
#audit small.api { color: var(--muted); }
tr.failed td, tr.denied td, tr.refused td { background: #fff7f7; }
pre { background: #fff; border: 1px solid var(--line); padding: 8px; overflow-x: auto; font-size: 13px; }
/* A phone: one column, tables scroll inside themselves instead of widening the page. */
@media (max-width: 700px) {
  header.top { padding: 8px 12px; gap: 8px 16px; }
  header.top nav { flex-wrap: wrap; gap: 8px 14px; flex-basis: 100%; order: 3; }
  main { padding: 0 12px; margin: 12px auto; }
  .card { padding: 12px; }
  .narrow { margin: 16px auto; }
  table { display: block; overflow-x: auto; }
  #audit { table-layout: auto; }
  .facts { grid-template-columns: 1fr; }
  .steps { flex-wrap: wrap; gap: 8px 16px; }
  progress { width: 100%; margin: 8px 0 0; }
}
"""#

    static let script = #"""
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
"""#
}
