/* seller-demo.js: demo-only glue. Gets a demo seller token (POST /demo/token, demo mode only) and starts the inbox. */
(function () {
  'use strict'
  var TITLES = { 'bike-42': 'Vintage road bicycle', 'lamp-7': 'Brass desk lamp' }
  fetch('/demo/token', {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user_id: 'demo-seller' })
  }).then(function (res) {
    if (!res.ok) throw new Error('HTTP ' + res.status)
    return res.json()
  }).then(function (body) {
    window.ChatConfig = { token: body.token, getListingTitle: function (id) { return TITLES[id] } }
    var s = document.createElement('script')
    s.src = '/static/seller-chats.js' // auto-starts on #profilePage because ChatConfig.token is set
    document.head.appendChild(s)
  }).catch(function (err) {
    var p = document.createElement('p')
    p.className = 'demo-error'
    p.textContent = 'Demo seller token unavailable (' + err.message + '). Start the service in demo mode.'
    document.querySelector('[data-seller-chats]').appendChild(p)
  })
})()
