// A workflow in plain JavaScript: `npx baton run plain.mjs` loads it without TypeScript support.
import { task, workflow, z } from 'baton';

export const greet = task({
  name: 'plain.greet',
  input: z.object({ name: z.string() }),
  output: z.string(),
  run: ({ name }) => `Hello, ${name}!`,
});

export default workflow({ name: 'plain', params: z.object({ name: z.string().default('consumer') }) }, ({ name }) => greet({ name }));
