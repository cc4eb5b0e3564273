// The router's GraphiQL page: GraphiQL with its header editor, plus a sign-in box that runs the
// `login` mutation through the router and puts `Authorization: Bearer <token>` into the headers.
// The token lives in sessionStorage only (gone when the tab closes): GraphiQL keeps tabs and
// history in localStorage, and its history saves headers even with shouldPersistHeaders off, so
// its storage below drops every "headers" field before writing. Loaded as a file: the page's CSP
// allows no inline script. Subscriptions go over graphql-transport-ws to this same URL (ws:/wss:),
// with the Headers tab's values (the sign-in token) as the connection_init payload.
(function () {
  "use strict";

  var h = React.createElement;
  var endpoint = window.location.pathname; // the page is served by the GraphQL endpoint itself
  // The router serves graphql-transport-ws on GET of the same path.
  var subscriptionUrl =
    (window.location.protocol === "https:" ? "wss://" : "ws://") + window.location.host + endpoint;
  var TOKEN_KEY = "router-explorer.token";
  var NAME_KEY = "router-explorer.name";
  var LOGIN = [
    "mutation ExplorerSignIn($input: LoginInput!) {",
    "  login(input: $input) { accessToken user { name } }",
    "}",
  ].join("\n");
  var DEFAULT_QUERY = [
    "# GraphiQL, served by this router.",
    "# Sign in (top right) to run operations",
    "# as that account: its token goes into",
    "# the Headers tab below.",
    "",
    "{",
    "  stores {",
    "    name",
    "  }",
    "}",
    "",
  ].join("\n");

  // The signed-in account, shared by the sign-in box and the header editor.
  var session = {
    token: sessionStorage.getItem(TOKEN_KEY),
    name: sessionStorage.getItem(NAME_KEY),
    listeners: new Set(),
    subscribe: function (listener) {
      session.listeners.add(listener);
      return function () {
        session.listeners.delete(listener);
      };
    },
    getToken: function () {
      return session.token;
    },
    set: function (token, name) {
      session.token = token;
      session.name = name;
      if (token) {
        sessionStorage.setItem(TOKEN_KEY, token);
        sessionStorage.setItem(NAME_KEY, name || "");
      } else {
        sessionStorage.removeItem(TOKEN_KEY);
        sessionStorage.removeItem(NAME_KEY);
      }
      session.listeners.forEach(function (listener) {
        listener();
      });
    },
  };

  // GraphiQL's default localStorage store (same "graphiql:" keys), minus any saved headers.
  var NAMESPACE = "graphiql:";
  function withoutHeaders(value) {
    try {
      return JSON.stringify(JSON.parse(value), function (key, item) {
        return key === "headers" ? undefined : item;
      });
    } catch (error) {
      return value; // not JSON: a plain setting such as the theme
    }
  }
  var storage = {
    getItem: function (key) {
      return localStorage.getItem(key);
    },
    setItem: function (key, value) {
      localStorage.setItem(key, withoutHeaders(value));
    },
    removeItem: function (key) {
      localStorage.removeItem(key);
    },
    get length() {
      return Object.keys(localStorage).filter(function (key) {
        return key.indexOf(NAMESPACE) === 0;
      }).length;
    },
    clear: function () {
      Object.keys(localStorage).forEach(function (key) {
        if (key.indexOf(NAMESPACE) === 0) localStorage.removeItem(key);
      });
    },
  };

  function useToken() {
    return React.useSyncExternalStore(session.subscribe, session.getToken);
  }

  // Header-editor JSON with the Authorization header replaced (or removed when token is null).
  function withAuthorization(text, token) {
    var headers = {};
    try {
      var parsed = text && text.trim() ? JSON.parse(text) : {};
      if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) headers = parsed;
    } catch (error) {
      headers = {};
    }
    Object.keys(headers).forEach(function (key) {
      if (key.toLowerCase() === "authorization") delete headers[key];
    });
    if (token) headers.Authorization = "Bearer " + token;
    return Object.keys(headers).length ? JSON.stringify(headers, null, 2) : "";
  }

  // Rendered inside GraphiQL (toolbar slot) to reach its editor context; draws nothing.
  function HeaderSync() {
    var token = useToken();
    var editors = GraphiQL.React.useEditorContext({ nonNull: true });
    var headerEditor = editors.headerEditor;
    var applied = React.useRef(null);
    React.useEffect(
      function () {
        if (!headerEditor) return;
        // On first mount only a stored token is applied: never strip headers typed by hand.
        if (applied.current === null && !token) {
          applied.current = token;
          return;
        }
        if (applied.current === token) return;
        applied.current = token;
        var next = withAuthorization(headerEditor.getValue(), token);
        if (next !== headerEditor.getValue()) headerEditor.setValue(next);
      },
      [headerEditor, token],
    );
    return null;
  }

  function signIn(email, password) {
    return fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/json", accept: "application/json" },
      body: JSON.stringify({
        query: LOGIN,
        operationName: "ExplorerSignIn",
        variables: { input: { email: email, password: password } },
      }),
    })
      .then(function (response) {
        return response.json();
      })
      .then(function (body) {
        if (body.errors && body.errors.length) throw new Error(body.errors[0].message);
        var login = body.data && body.data.login;
        if (!login) throw new Error("Sign-in failed");
        session.set(login.accessToken, login.user && login.user.name);
      });
  }

  function SignInBox() {
    var token = useToken();
    var state = React.useState({ email: "", password: "", error: "", busy: false });
    var form = state[0];
    var setForm = state[1];

    function update(key) {
      return function (event) {
        var change = {};
        change[key] = event.target.value;
        setForm(Object.assign({}, form, change));
      };
    }

    function submit(event) {
      event.preventDefault();
      setForm(Object.assign({}, form, { busy: true, error: "" }));
      signIn(form.email, form.password).then(
        function () {
          setForm({ email: "", password: "", error: "", busy: false });
        },
        function (error) {
          setForm(Object.assign({}, form, { busy: false, error: error.message }));
        },
      );
    }

    var title = h("span", { className: "explorer-title" }, "GraphiQL · Pizza supergraph router");
    if (token) {
      return h(
        React.Fragment,
        null,
        title,
        h(
          "span",
          { className: "explorer-account", "data-testid": "signed-in" },
          "Signed in as ",
          h("strong", null, session.name || "(unnamed account)"),
        ),
        h(
          "button",
          { type: "button", onClick: function () { session.set(null, null); } },
          "Sign out",
        ),
      );
    }
    return h(
      React.Fragment,
      null,
      title,
      h(
        "form",
        { className: "explorer-sign-in", onSubmit: submit, "aria-label": "Sign in" },
        form.error && h("span", { className: "explorer-error", role: "alert" }, form.error),
        h("input", {
          type: "email",
          name: "email",
          placeholder: "Email",
          autoComplete: "username",
          required: true,
          value: form.email,
          onChange: update("email"),
        }),
        h("input", {
          type: "password",
          name: "password",
          placeholder: "Password",
          autoComplete: "current-password",
          required: true,
          value: form.password,
          onChange: update("password"),
        }),
        h("button", { type: "submit", disabled: form.busy }, form.busy ? "Signing in…" : "Sign in"),
      ),
    );
  }

  // The fetcher picks the WebSocket when the document's operation is a subscription, but
  // GraphiQL hands it the editor's last parsed document, which lags the text by a debounce: a
  // subscription typed and run at once would go out as a POST. Parse the text actually sent.
  function documentOf(params, options) {
    var fallback = options && options.documentAST;
    if (params.operationName === "IntrospectionQuery" || !GraphiQL.GraphQL) return fallback;
    try {
      return GraphiQL.GraphQL.parse(params.query);
    } catch (error) {
      return fallback; // the router reports the syntax error
    }
  }

  function Explorer() {
    var token = useToken();
    var fetcher = React.useMemo(function () {
      // GraphiQL's bundle carries the graphql-ws client: with subscriptionUrl, each subscription
      // opens a lazy socket whose connection_init payload is the Headers tab's JSON, so the
      // signed-in Authorization header reaches the router's auth as it does over HTTP.
      var toolkitFetcher = GraphiQL.createFetcher({
        url: endpoint,
        subscriptionUrl: subscriptionUrl,
      });
      return function (params, options) {
        var parsed = { documentAST: documentOf(params, options) };
        return toolkitFetcher(params, Object.assign({}, options, parsed));
      };
    }, []);
    return h(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: DEFAULT_QUERY,
      // New tabs start with the signed-in account's header.
      defaultHeaders: withAuthorization("", token),
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false,
      storage: storage,
      defaultEditorToolsVisibility: token ? "headers" : undefined,
      toolbar: { additionalComponent: HeaderSync },
    });
  }

  ReactDOM.createRoot(document.getElementById("explorer-bar")).render(h(SignInBox));
  ReactDOM.createRoot(document.getElementById("graphiql")).render(h(Explorer));
})();
