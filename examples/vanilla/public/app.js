// The page's own code: it only ever talks to window.tidemark, which the script tag above provides.
let clicks = 0;
const status = document.getElementById('status');

for (const button of document.querySelectorAll('button[data-product]')) {
  button.addEventListener('click', () => {
    clicks += 1;
    window.tidemark.track('Product Added', {
      product: button.dataset.product,
      price: Number(button.dataset.price),
      click: clicks,
    });
    status.textContent = `Tracked ${clicks} click${clicks === 1 ? '' : 's'}.`;
  });
}

document.getElementById('signup').addEventListener('click', () => {
  clicks += 1;
  window.tidemark.track('Newsletter Signup', { click: clicks });
  status.textContent = `Tracked ${clicks} click${clicks === 1 ? '' : 's'}.`;
});

// A tiny client-side router, as single-page apps have: links with `data-route` change the URL with pushState.
function render() {
  const about = location.pathname === '/about';
  document.querySelector('main').hidden = about;
  document.getElementById('about').hidden = !about;
  document.title = about ? 'About — Tidemark shop' : 'Tidemark — vanilla example';
}
for (const link of document.querySelectorAll('a[data-route]')) {
  link.addEventListener('click', (event) => {
    event.preventDefault();
    if (link.pathname !== location.pathname) history.pushState({}, '', link.href);
    render();
  });
}
addEventListener('popstate', render);
render();
