import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../../env';
import { emailRoutes } from './email';
import { acceptInvitation } from './invitation';
import { login } from './login';
import { passwordRoutes } from './password';
import { logout } from './logout';
import { mfaSignIn } from '../mfa/sign-in';
import { refresh } from './refresh';
import { register } from './register';

export const authRoutes = new OpenAPIHono<AppEnv>().route('/', register).route('/', login).route('/', refresh).route('/', logout)
  .route('/', acceptInvitation)
  .route('/', passwordRoutes)
  .route('/', emailRoutes)
  .route('/', mfaSignIn);
