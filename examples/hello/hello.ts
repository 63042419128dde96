/**
 * The smallest Baton pipeline: two typed tasks, a fan-out with `map`, a branch with `when`.
 * Run it: npx baton run examples/hello/hello.ts --param name=Ada
 */
import { map, task, when, workflow, z } from 'baton';

export const greet = task({
  name: 'hello.greet',
  input: z.object({ name: z.string() }),
  output: z.object({ message: z.string(), letters: z.array(z.string()) }),
  run: ({ name }) => {
    console.log(`greeting ${name}`);
    return { message: `Hello, ${name}!`, letters: [...name] };
  },
});

export const shout = task({
  name: 'hello.shout',
  input: z.object({ letter: z.string() }),
  output: z.string(),
  run: ({ letter }) => letter.toUpperCase(),
});

export const isLong = task({
  name: 'hello.is-long',
  input: z.object({ letters: z.array(z.string()) }),
  output: z.boolean(),
  run: ({ letters }) => letters.length > 4,
});

export const join = task({
  name: 'hello.join',
  input: z.object({ parts: z.array(z.string()), sep: z.string().default('') }),
  output: z.string(),
  run: ({ parts, sep }) => parts.join(sep),
});

export default workflow(
  { name: 'hello', params: z.object({ name: z.string().default('world') }) },
  ({ name }) => {
    const g = greet({ name });
    const upper = map(shout, g.letters, (letter) => ({ letter }));
    const long = isLong({ letters: g.letters });
    const joined = when(
      long,
      () => join({ parts: upper, sep: '-' }),
      () => join.with({ id: 'join-short' })({ parts: upper }),
    );
    return { message: g.message, shouted: joined };
  },
);
