// The team view loads without signal: the page and its assets come from this cache
// when the network fails. API calls and the live socket are never cached.
const CACHE = "dispatch112-team-v2";
const ASSETS = ["/team", "/static/app.css", "/static/i18n.js", "/static/live.js",
                "/static/team.js", "/static/manifest.webmanifest", "/static/icon.svg",
                // the route map ("Peta") when the service has a road graph
                "/static/roadmap.js", "/static/team-route.js",
                "/static/vendor/leaflet/leaflet.js", "/static/vendor/leaflet/leaflet.css"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(ASSETS)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((keys) => Promise.all(
    keys.filter((k) => k !== CACHE).map((k) => caches.delete(k)))).then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== location.origin) return;
  if (!ASSETS.includes(url.pathname)) return;
  // Network first, so a new version shows as soon as there is signal.
  event.respondWith(fetch(event.request).then((response) => {
    if (response.ok) {
      const copy = response.clone();
      caches.open(CACHE).then((cache) => cache.put(event.request, copy));
    }
    return response;
  }).catch(() => caches.match(event.request)));
});
