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
