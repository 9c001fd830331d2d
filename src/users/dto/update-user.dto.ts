import { EmailField, NameField, PasswordField, PresentedPasswordField } from './user-fields.js';

export class UpdateUserDto {
  @EmailField({ optional: true })
  email?: string;

  @PasswordField({ optional: true })
  password?: string;

  @NameField()
  name?: string | null;

  @PresentedPasswordField(
    'Required when you change your own email or password; ignored for a name-only change.',
    { optional: true },
  )
  currentPassword?: string;
}
