/** The floor of the coldstart bench: a hello-world function, bundled and measured like the hub's. */
export const handler = async (): Promise<{ statusCode: number; body: string }> => ({
  statusCode: 200,
  body: 'hello',
});
