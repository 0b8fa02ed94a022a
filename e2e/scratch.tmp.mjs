import { launch, User, DESKTOP } from './lib/browser.mjs';
const b = await launch();
const a = await new User(b, 'Ana Lima', DESKTOP).open();
await a.signUp();
console.log(await a.page.locator('body').ariaSnapshot());
console.log(await a.page.getByRole('link', { name: 'People' }).count());
console.log('errors', a.errors);
await b.close();
