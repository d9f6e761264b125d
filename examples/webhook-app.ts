/**
 * An app that hands ttc-edge a problem, goes on with its life, and gets the answer by webhook:
 * submit an async solve naming a webhook URL, receive the signed delivery, verify it with the
 * `standardwebhooks` package, print the answer.
 *
 *   TTC_KEY=ttc_… npx tsx examples/webhook-app.ts        (against `npm run dev`, which lets webhooks reach localhost)
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

const base = process.env.TTC_URL ?? "http://localhost:8787";
const auth = { authorization: `Bearer ${process.env.TTC_KEY}` };

// The tenant's signing secret (whsec_…): what the receiver verifies deliveries with.
const { secret } = (await (await fetch(`${base}/v1/webhooks/secret`, { headers: auth })).json()) as { secret: string };
const webhook = new Webhook(secret);

const server = createServer((req, res) => {
  let body = "";
  req.on("data", (chunk: Buffer) => (body += chunk.toString()));
  req.on("end", () => {
    try {
      // Throws unless the signature, the id and a recent timestamp check out.
      const event = webhook.verify(body, req.headers as Record<string, string>) as {
        type: string;
        data: { id: string; answer: string | null; confidence: number | null; spend: { tokens: number } };
      };
      res.writeHead(204).end();
      console.log(
        `${event.type}: solve ${event.data.id} answered ${event.data.answer} (confidence ${event.data.confidence?.toFixed(2)}, ${event.data.spend.tokens} tokens)`,
      );
      server.close();
    } catch (err) {
      res.writeHead(400).end();
      console.error("rejected a delivery:", err instanceof Error ? err.message : err);
    }
  });
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`;

const res = await fetch(`${base}/v1/solves`, {
  method: "POST",
  headers: { ...auth, "content-type": "application/json" },
  body: JSON.stringify({
    prompt: "Start with 23. Add 58. Multiply by 4. Subtract 17. What is the final number?",
    strategy: { strategy: "beam-search", n: 16, width: 4 },
    webhook: { url },
  }),
});
console.log(
  `submitted: HTTP ${res.status}, solve ${((await res.json()) as { id: string }).id}; waiting for the webhook at ${url}`,
);
